// Run Python code in real Pyodide (offline: the npm package carries the runtime and the
// standard library) after unpacking the given wheels into site-packages.
//   node run_pyodide.mjs SCRIPT.py WHEEL...
// Prints what the script prints; exits 1 with the Python traceback on stderr when it raises.
import { readFileSync } from "node:fs";
import { loadPyodide } from "pyodide";

const [script, ...wheels] = process.argv.slice(2);
const pyodide = await loadPyodide({ stdout: (s) => console.log(s), stderr: (s) => console.error(s) });
const site = pyodide.runPython("import site; site.getsitepackages()[0]");
for (const wheel of wheels) {
  pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: site });
}
try {
  await pyodide.runPythonAsync(readFileSync(script, "utf8"));
} catch (err) {
  console.error(err.message ?? String(err));
  process.exit(1);
}
