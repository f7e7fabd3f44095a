"""Errors raised on bad input, each naming the problem and the fix."""


class InputError(ValueError):
    """Bad input found before any expensive work.

    Parameters
    ----------
    problem : str
        What is wrong, with the offending value.
    fix : str, optional
        What the user should do about it.
    """

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        message = problem if fix is None else f"{problem}\n  fix: {fix}"
        super().__init__(message)
