"""The local stack behind ``newsvault up``: SeaweedFS, the Prefect server and the replica as
background services under one home directory (``control`` is the entry point)."""
