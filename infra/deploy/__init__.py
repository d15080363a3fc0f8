"""Deployment beyond one machine: ``prefect.yaml`` (work pools), compose and Kubernetes sketches.
The failure-notification automation is Prefect code, so it lives in ``flows.orchestrate``
(``python -m flows.orchestrate.automation``)."""
