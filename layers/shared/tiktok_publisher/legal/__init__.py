"""Legal pages (privacy policy, terms of service) with the disclosures TikTok's app review looks for."""
