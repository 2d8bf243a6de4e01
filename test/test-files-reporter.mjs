// A node --test reporter for test.sh: one line per test file, "<tests>\t<stand-ins passed>\t<path>".
// node's TAP summary counts tests but not which file they came from, so it cannot tell a test file that
// registers no test (a typo in an import, a describe left empty) from one that does: this reporter can, from
// the file every event carries. <tests> counts the tests the file registered, skipped and todo included,
// suites not (as node's own "# tests" line). A file that registered none is reported by node as a test named
// by the file's own path; that stand-in is not a test: it is counted apart, in <stand-ins passed>, so test.sh
// can take it out of the passed count.
export default async function* testFilesReporter(source) {
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') {
      continue;
    }
    const { name, file, nesting, details } = event.data;
    if (!file) {
      continue;
    }
    const counts = files.get(file) ?? { tests: 0, standIns: 0 };
    files.set(file, counts);
    if (nesting === 0 && name === file) {
      if (event.type === 'test:pass') {
        counts.standIns++;
      }
    } else if (details?.type !== 'suite') {
      counts.tests++;
    }
  }
  for (const [file, { tests, standIns }] of files) {
    yield `${tests}\t${standIns}\t${file}\n`;
  }
}
