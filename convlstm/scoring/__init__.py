"""How forecasts are scored and against what: the metrics, the classical baselines, and the
comparison of a model with them that every command and the app start from."""
