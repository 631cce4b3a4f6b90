"""What a Lambda handler calls: HTTP routes on the Powertools resolver, SQS, S3 and schedule handlers."""
