"""Pure builders of the registry's policies."""

from __future__ import annotations

import json


def keep_last_images(count: int) -> str:
    """ECR lifecycle policy: expire all but the newest `count` images (tagged or not)."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {count} images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count},
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )
