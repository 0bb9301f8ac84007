"""The spark-on-eks policy pack: `pulumi preview --policy-pack policy` (or `up`).

The rules live in sparkeks/policy/rules.py, shared with `python -m sparkeks plan <stack> --policy`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sparkeks.policy.pack import serve  # noqa: E402

serve()
