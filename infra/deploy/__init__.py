"""Deployment beyond one machine: ``prefect.yaml`` (work pools), compose and Kubernetes sketches,
and the failure-notification automation (``python -m infra.deploy.automation``)."""
