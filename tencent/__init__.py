"""A Tencent Cloud API 3.0 compatible endpoint (`POST /`, TC3-HMAC-SHA256) for the SES actions."""
