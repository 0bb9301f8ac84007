"""Build step of the wheel: it carries the checkout's project files that `sparkeks init` writes.

Copied from the checkout while the wheel is built (never kept twice in the repository), so an installed
package starts projects with exactly the files of the commit it was built from. Everything else about the
package is declared in pyproject.toml.
"""

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from sparkeks.init_project import TEMPLATE_DIR, template_files  # noqa: E402 - the list lives with the command


class BuildWithProjectFiles(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "sparkeks" / TEMPLATE_DIR
        shutil.rmtree(target, ignore_errors=True)
        for relative in template_files(ROOT):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, target / relative)


setup(cmdclass={"build_py": BuildWithProjectFiles})
