"""The checks of the integration runners: each prints one [PASS]/[FAIL]
line with its label, and the details under a failure (under a pass too,
cut to three lines, for runners that ask for them); the runner's exit
status comes from the count of failures."""


class Checker:
    def __init__(self, show_passing=False):
        self.failed = 0
        self.show_passing = show_passing

    def expect(self, label, ok, *details):
        print('[%s] %s' % ('PASS' if ok else 'FAIL', label))
        lines = [l for d in details for l in (str(d).splitlines() or [''])]
        if ok:
            if not self.show_passing:
                return ok
            if len(lines) > 3:
                lines = lines[:3] + ['...']
        else:
            self.failed += 1
        for line in lines:
            print('       ' + line)
        return ok


def expect(failures, what, ok, detail='', show_passing=False):
    """The same for runners that collect the labels of failed checks."""
    print('[%s] %s' % ('PASS' if ok else 'FAIL', what))
    if detail and (show_passing or not ok):
        print('       ' + str(detail).strip().replace('\n', '\n       '))
    if not ok:
        failures.append(what)
