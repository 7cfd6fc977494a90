"""``python benchmarks/email.py``: runs the email channel benchmark (email_channel.py).

A script's folder is first on Python's import path, so an ``import email`` made by any
script in benchmarks/ (http.server and smtplib make one) finds this file before the
standard library's package. Imported, this module therefore makes itself that package;
run, it starts the benchmark, whose own ``import email`` then lands in the first branch.
"""

import sys

if __name__ == "__main__":
    import runpy
    from pathlib import Path

    runpy.run_path(str(Path(__file__).with_name("email_channel.py")), run_name="__main__")
else:
    import importlib.machinery
    import importlib.util
    import sysconfig

    _spec = importlib.machinery.PathFinder.find_spec("email", [sysconfig.get_paths()["stdlib"]])
    if _spec is None or _spec.loader is None:
        raise ImportError("the standard library's email package is missing")
    _stdlib = importlib.util.module_from_spec(_spec)
    sys.modules["email"] = _stdlib  # what the importing statement receives
    _spec.loader.exec_module(_stdlib)
