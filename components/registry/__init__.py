"""ImageRegistry: the ECR repositories of the platform's Spark images."""
