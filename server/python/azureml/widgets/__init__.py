"""`azureml.widgets.RunDetails`: a run's live card in the notebook (status, duration,
link to the portal, the log's last lines), drawn and kept up to date by the page."""

from azureml import _display


class RunDetails:
    """The widget of a run: `RunDetails(run).show()`."""

    def __init__(self, run_instance):
        self.run_instance = run_instance

    def _repr_mimebundle_(self, include=None, exclude=None):
        run = self.run_instance
        return _display.run_bundle(run, run.get_status())

    def show(self):
        """Shows the card in the cell's output."""
        _display.display(self._repr_mimebundle_())

    def get_widget_data(self, widget_settings=None):
        """What the card shows, as data."""
        return self._repr_mimebundle_()[_display.DISPLAY_MIME]
