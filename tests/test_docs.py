"""The README's commands are the ones the project runs."""
from __future__ import annotations

import os
import re

from trainer_testing import REPO


def test_ci_runs_the_readme_test_command():
    readme = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    section = readme[readme.index("## Tests"):]
    command = re.search(r"```bash\n(.*?)\n```", section, re.S).group(1).strip()
    assert "\n" not in command and "pytest" in command   # one line sets up and runs the tests
    ci = open(os.path.join(REPO, ".ci", "run"), encoding="utf-8").read().splitlines()
    assert command in ci
