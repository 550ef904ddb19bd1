"""What deployed IM servers report: filled by the ingestion endpoints."""
