"""Going live: the operator's post-deploy steps (the secret, the portal values, checking the deployment,
verifying the PULL_FROM_URL prefix at TikTok), run by `python -m tiktok_publisher.cli`."""
