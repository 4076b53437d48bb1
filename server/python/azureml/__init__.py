"""Runboard's stand-in for the Azure ML SDK v1 package: just what a training script
imports (`from azureml.core import Run`), so SDK v1 scripts run unchanged."""
