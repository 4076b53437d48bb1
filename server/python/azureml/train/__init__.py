"""`azureml.train`: estimators."""
