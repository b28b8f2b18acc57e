# SPDX-License-Identifier: MIT
"""Run unittest test cases and print TAP, so meson (and tools/tap_summary.py)
counts every test method: `ok N - Class.method`, `not ok` with the
traceback as `#` lines, `# SKIP reason` for skipped ones."""
import sys
import unittest


class _TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0

    def _line(self, test, ok, note=""):
        self.n += 1
        name = f"{type(test).__name__}.{test._testMethodName}"
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}{note}")
        sys.stdout.flush()

    def _diag(self, text):
        for line in text.rstrip().splitlines():
            print(f"#   {line}")

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(test, False)
        self._diag(self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._line(test, False)
        self._diag(self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, True, f" # SKIP {reason}")


def main(module="__main__"):
    """Run every test of `module` in definition order; exit 1 on a failure."""
    loader = unittest.TestLoader()
    loader.sortTestMethodsUsing = None
    suite = loader.loadTestsFromModule(sys.modules[module])
    print(f"1..{suite.countTestCases()}")
    result = _TapResult()
    suite.run(result)
    sys.exit(0 if result.wasSuccessful() else 1)
