"""Object storage: MinIO locally; S3 and GCS come with the cloud layer."""
