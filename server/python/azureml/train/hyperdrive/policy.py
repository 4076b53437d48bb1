"""Early termination policies, applied by the server to the children's primary metric
each time they log it (an interval)."""


class EarlyTerminationPolicy:
    """The policies' base."""

    def _as_json(self):
        raise NotImplementedError


class BanditPolicy(EarlyTerminationPolicy):
    """Stops a child whose best value is not within `slack_factor` (a ratio) or
    `slack_amount` of the best child's at the same interval."""

    def __init__(self, evaluation_interval=1, slack_factor=None, slack_amount=None, delay_evaluation=0):
        self.evaluation_interval = evaluation_interval
        self.slack_factor = slack_factor
        self.slack_amount = slack_amount
        self.delay_evaluation = delay_evaluation

    def _as_json(self):
        out = {"kind": "bandit", "evaluation_interval": self.evaluation_interval,
               "delay_evaluation": self.delay_evaluation}
        if self.slack_factor is not None:
            out["slack_factor"] = self.slack_factor
        if self.slack_amount is not None:
            out["slack_amount"] = self.slack_amount
        return out


class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Stops a child whose best value is worse than the median of the children's
    running averages."""

    def __init__(self, evaluation_interval=1, delay_evaluation=5):
        self.evaluation_interval = evaluation_interval
        self.delay_evaluation = delay_evaluation

    def _as_json(self):
        return {"kind": "median_stopping", "evaluation_interval": self.evaluation_interval,
                "delay_evaluation": self.delay_evaluation}


class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """Stops the lowest `truncation_percentage` percent of the children at each
    evaluation."""

    def __init__(self, truncation_percentage, evaluation_interval=1, delay_evaluation=0,
                 exclude_finished_jobs=False):
        self.truncation_percentage = truncation_percentage
        self.evaluation_interval = evaluation_interval
        self.delay_evaluation = delay_evaluation
        self.exclude_finished_jobs = exclude_finished_jobs

    def _as_json(self):
        return {"kind": "truncation_selection", "truncation_percentage": self.truncation_percentage,
                "evaluation_interval": self.evaluation_interval,
                "delay_evaluation": self.delay_evaluation,
                "exclude_finished_jobs": self.exclude_finished_jobs}


class NoTerminationPolicy(EarlyTerminationPolicy):
    """Every child runs to its end."""

    def _as_json(self):
        return {"kind": "none"}
