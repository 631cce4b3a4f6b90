"""The only code that talks to the outside: DynamoDB tables, TikTok, S3, SQS, EventBridge, KMS."""
