"""`HyperDriveRun`: a sweep's parent run."""

from azureml.core.run import Run


class HyperDriveRun(Run):
    """A sweep run on the server: its children, and the best of them by the primary
    metric."""

    def __init__(self, experiment, run_id, hyperdrive_config=None, **kwargs):
        super().__init__(experiment, run_id)
        self.hyperdrive_config = hyperdrive_config

    def _children_page(self):
        return self._endpoint.json("GET", self._path("/children"))

    def get_hyperparameters(self):
        """Child run id -> its parameter values (a JSON string, as the SDK gives)."""
        import json

        return {c["run_id"]: json.dumps(c.get("parameters") or {}) for c in self._children_page()["children"]}

    def get_children_sorted_by_primary_metric(self, top=0, reverse=False, discard_no_metric=False):
        """The children as dicts (`run_id`, `hyperparameters`, `best_primary_metric`,
        `status`), best first by their best value of the primary metric (worst
        first with `reverse`); children without it come last, or not at all with
        `discard_no_metric`. `top` > 0 keeps that many."""
        import json

        page = self._children_page()
        maximize = page.get("primary_metric_goal") == "maximize"
        rows = [{
            "run_id": c["run_id"],
            "hyperparameters": json.dumps(c.get("parameters") or {}),
            "best_primary_metric": c.get("primary_metric"),
            "status": c["status"],
        } for c in page["children"]]
        with_metric = [r for r in rows if r["best_primary_metric"] is not None]
        without = [] if discard_no_metric else [r for r in rows if r["best_primary_metric"] is None]
        # Stable sort: between equal values the earlier child stays first.
        with_metric.sort(key=lambda r: r["best_primary_metric"], reverse=maximize != bool(reverse))
        rows = with_metric + without
        return rows[:top] if top else rows

    def get_best_run_by_primary_metric(self, include_failed=True, include_canceled=True,
                                       include_resume_from_runs=True):
        """The child with the best value of the primary metric, as a `Run`; `None`
        when no child logged it."""
        excluded = set()
        if not include_failed:
            excluded.add("Failed")
        if not include_canceled:
            excluded.add("Canceled")
        for row in self.get_children_sorted_by_primary_metric(discard_no_metric=True):
            if row["status"] not in excluded:
                return Run(self.experiment, row["run_id"])
        return None
