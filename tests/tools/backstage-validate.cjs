// Backstage catalog entities checked by Backstage's own catalog model (@backstage/catalog-model,
// installed by dev.py): the policies and kind validators its catalog applies when it reads a
// catalog-info.yaml. Usage: node backstage-validate.cjs MODEL_DIR < entities.json, where
// entities.json is a JSON array of entities; prints a JSON array of problems (none: []).
"use strict";
const fs = require("fs");
const model = require(process.argv[2]);

const policies = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
]);
const kinds = [
  model.apiEntityV1alpha1Validator,
  model.componentEntityV1alpha1Validator,
  model.domainEntityV1alpha1Validator,
  model.groupEntityV1alpha1Validator,
  model.locationEntityV1alpha1Validator,
  model.resourceEntityV1alpha1Validator,
  model.systemEntityV1alpha1Validator,
  model.userEntityV1alpha1Validator,
];

async function problemsOf(entity) {
  const where = `${entity && entity.kind} ${entity && entity.metadata && entity.metadata.name}`;
  try {
    const checked = await policies.enforce(entity);
    for (const kind of kinds) {
      if (await kind.check(checked)) return [];
    }
    return [`${where}: no validator knows kind ${entity.kind} (${entity.apiVersion})`];
  } catch (error) {
    return [`${where}: ${error.message}`];
  }
}

(async () => {
  const entities = JSON.parse(fs.readFileSync(0, "utf8"));
  const problems = [];
  for (const entity of entities) problems.push(...(await problemsOf(entity)));
  process.stdout.write(JSON.stringify(problems));
})();
