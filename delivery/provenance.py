"""Where each wording rule of delivery.bounces comes from.

Every rule names the standards or published provider documentation it follows, and the source
families of the public samples (docs/bounces.md) whose bounces it was written from. A rule must
name a standard/documentation or at least two independent families; the cross-validation in
delivery.bounce_evaluation switches a rule off in the fold that holds out a family it needs.
"""

from __future__ import annotations

# Standards and provider documentation (see docs/bounces.md for the passages).
STANDARDS = frozenset(
    {
        "rfc3463",  # Enhanced Mail System Status Codes
        "rfc3464",  # Delivery Status Notifications
        "rfc5321",  # SMTP reply codes and texts
        "rfc1870",  # SMTP SIZE extension: "552 message size exceeds fixed maximium message size"
        "rfc7505",  # null MX
        "rfc6647",  # Email greylisting: a deliberate temporary failure
        "rfc7208",  # SPF
        "rfc6376",  # DKIM
        "rfc7489",  # DMARC
        "doc:gmail",  # Gmail SMTP errors and codes
        "doc:microsoft",  # Exchange Online NDR codes
        "doc:yahoo",  # Yahoo SMTP error codes
        "doc:netease",  # 163.com / NetEase mail return codes (help_spam pages)
        "doc:postfix",  # Postfix's documented reject texts (SMTPD_ACCESS_README, smtp client texts)
        "doc:sendmail",  # sendmail's error messages as documented by its vendors (Oracle Solaris)
        "doc:amazonses",  # Amazon SES: message-rejected errors of its SMTP interface
        "doc:exim",  # Exim's own reply texts (smtp_in.c / acl.c defaults)
        "doc:mimecast",  # Mimecast SMTP error codes (community.mimecast.com DOC-1369)
        # Provider tables collected in delivery/documented_replies.jsonl (docs/bounces.md)
        "doc:cox",  # Cox postmaster "Error Codes"
        "doc:comcast",  # Comcast postmaster "Mail error codes"
        "doc:aol",  # AOL postmaster "Error codes" (postmaster.info.aol.com/errors)
        "doc:tencent",  # Tencent QQ Mail / Exmail bounce table (reproduced, see the jsonl)
        "doc:alibaba",  # Alibaba Mail help: behaviour anti-spam rejections
        "doc:trendmicro",  # Trend Micro DDEI / ERS documentation
        "doc:gmx",  # GMX / WEB.DE / IONOS postmaster and help pages
        "doc:godaddy",  # GoDaddy help: bounce messages
    }
)

PROVENANCE: dict[str, tuple[str, ...]] = {
    "code-policy.1": ("doc:cox",),
    "code-policy.2": ("doc:comcast",),
    "code-policy.3": ("doc:aol",),
    "code-policy.4": ("doc:yahoo",),
    "code-policy.5": ("doc:trendmicro",),
    "code-content.1": ("doc:aol",),
    "tls.1": ("doc:microsoft",),
    "volume.1": ("doc:gmail", "doc:microsoft", "doc:gmx"),
    "volume.2": ("doc:tencent",),
    "volume.3": ("doc:netease",),
    "volume.4": ("doc:alibaba",),
    "volume.5": ("doc:microsoft", "doc:gmail"),
    "volume.6": ("doc:comcast", "doc:godaddy"),
    "volume.7": ("rfc6647",),
    "mailer.1": ("exim", "postfix", "rfc3464", "sendmail"),
    "mailer.2": (),
    "mailer.3": ("rfc3463", "rfc3464", "sendmail", "x6"),
    "mailer.4": ("rfc5321",),
    "mailer.5": ("fml",),
    "probe.1": ("doc:postfix",),
    "directory.1": ("doc:microsoft", "postfix"),
    "directory.2": ("doc:microsoft", "exchange2007"),
    "sender.1": ("doc:postfix", "exim"),
    "sender.2": (),
    "sender.3": (),
    "sender.4": ("doc:postfix", "doc:sendmail", "sendmail"),
    "sender.5": ("doc:sendmail", "doc:mimecast", "dragonfly", "v5sendmail"),
    "sender.6": ("doc:postfix",),
    "sender.7": ("doc:gmail", "dragonfly", "exim", "opensmtpd"),
    "sender.8": ("doc:postfix", "amazonses", "sendmail"),
    "sender.9": ("doc:postfix",),
    "sender.10": ("amazonses", "exim", "sendmail"),
    "sender.11": (),
    "sender.12": ("doc:gmail", "ezweb", "opensmtpd", "postfix", "qmail"),
    "sender.13": (
        "rfc7208",
        "rfc6376",
        "rfc7489",
        "doc:gmail",
        "dragonfly",
        "postfix",
        "qmail",
        "sendmail",
    ),
    "sender.14": ("exchange2007", "opensmtpd", "sendmail"),
    "sender.15": ("doc:microsoft", "amazonses", "mfilter", "postfix", "qmail", "rfc3464"),
    "sender.16": ("doc:gmail", "postfix"),
    "sender.17": ("doc:aol", "sendmail"),
    "sender.18": ("yahoo",),
    "sender.19": ("postfix",),
    "sender.20": ("googlegroups",),
    "sender.21": ("postfix",),
    "sender.22": ("doc:netease",),
    "sender.23": (),
    "sender.24": ("googlegroups",),
    "sender.25": ("doc:amazonses",),
    "sender.26": ("doc:postfix", "postfix"),
    "sender.27": ("doc:gmail",),
    "sender.28": ("v5sendmail",),
    "sender.29": ("doc:exim", "doc:mimecast"),
    "sender.30": ("doc:gmx",),
    "sender.31": ("rfc5321",),
    "sender.32": ("rfc5321", "rfc3463"),
    "sender.33": ("rfc3463",),
    "sender.34": ("rfc5321", "doc:gmail"),
    "content.1": ("doc:gmail", "amavis", "dragonfly", "exim", "postfix"),
    "content.2": ("receivingses", "rfc3464", "sendmail"),
    "content.3": ("rfc3463", "receivingses", "sendmail"),
    "content.4": ("dragonfly",),
    "content.5": ("exim",),
    "content.6": ("doc:netease",),
    "content.7": (),
    "content.8": (),
    "blocked.1": ("doc:postfix", "doc:microsoft", "exim", "postfix", "sendmail"),
    "rate.1": ("doc:gmail",),
    "rate.2": ("doc:gmail",),
    "rate.3": (),
    "too_big.1": ("rfc3463", "dragonfly", "exchange2007", "receivingses"),
    "too_big.2": ("rfc1870",),
    "too_big.3": (),
    "system.1": ("rfc5321", "sendmail"),
    "full.1": (
        "rfc3463",
        "amazonses",
        "amazonworkmail",
        "biglobe",
        "dragonfly",
        "exchange2007",
        "exim",
        "gmail",
        "gmx",
        "imailserver",
        "kddi",
        "mailru",
        "messagingserver",
        "opensmtpd",
        "postfix",
        "qmail",
        "receivingses",
        "yahoo",
        "yandex",
        "zoho",
    ),
    "full.2": ("rfc3463", "x4"),
    "full.3": ("doc:gmail", "messagingserver", "postfix", "qmail", "rfc3464", "x2", "x3"),
    "full.4": (),
    "full.5": (),
    "full.6": ("rfc5321",),
    "full.7": ("doc:microsoft",),
    "full.8": ("rfc3463",),
    "full.9": ("rfc3463",),
    "full.10": ("doc:aol", "doc:gmx", "doc:godaddy"),
    "host.1": ("doc:sendmail", "sendmail", "v5sendmail"),
    "host.2": ("exim",),
    "host.3": ("dragonfly", "mailru", "sendmail"),
    "host.4": ("opensmtpd", "qmail", "yahoo"),
    "host.5": ("rfc7505", "mailru", "messagingserver"),
    "host.6": ("courier", "dragonfly", "rfc3464"),
    "disabled.1": (),
    "disabled.2": ("rfc3463", "dragonfly", "ezweb", "x2"),
    "disabled.3": ("rfc3463", "dragonfly"),
    "disabled.4": ("rfc5321",),
    "unknown.1": (
        "amavis",
        "amazonses",
        "dragonfly",
        "exchange2003",
        "exim",
        "ezweb",
        "gmail",
        "interscanmss",
        "mailru",
        "mcafee",
        "messagingserver",
        "mfilter",
        "opensmtpd",
        "postfix",
        "powermta",
        "qmail",
        "rfc3464",
        "sendgrid",
        "sendmail",
        "v5sendmail",
        "x1",
        "x5",
        "x6",
        "yahoo",
        "yandex",
    ),
    "unknown.2": ("mfilter", "surfcontrol", "v5sendmail", "verizon", "x3"),
    "unknown.3": ("doc:gmail", "mcafee", "opensmtpd", "receivingses", "rfc3464"),
    "unknown.4": ("doc:microsoft", "postfix"),
    "unknown.5": (),
    "unknown.6": (),
    "unknown.7": ("activehunter", "exim", "verizon"),
    "unknown.8": ("doc:yahoo", "sendmail", "x2"),
    "unknown.9": ("rfc3463", "dragonfly"),
    "unknown.10": (),
    "unknown.11": ("interscanmss",),
    "unknown.12": (),
    "unknown.13": (),
    "unknown.14": ("googlegroups",),
    "unknown.15": ("doc:mimecast", "doc:netease"),
    "vague.1": ("einsundeins",),
    "vague.2": (
        "amazonses",
        "amazonworkmail",
        "exim",
        "gmx",
        "opensmtpd",
        "postfix",
        "qmail",
        "rfc3464",
        "x2",
        "yandex",
    ),
    "vague.3": ("gmail", "postfix", "receivingses", "rfc3464", "sendmail"),
    "vague.4": ("doc:gmail", "exim", "postfix"),
    "vague.5": ("doc:sendmail", "amazonworkmail", "dragonfly"),
    "vague.6": ("rfc5321", "gmail", "postfix"),
    "refused.1": ("rfc5321", "exim", "ezweb"),
}


def independent_sources(sources: tuple[str, ...], without: str | None = None) -> bool:
    """A standard, or at least two families other than `without`."""
    if any(s in STANDARDS for s in sources):
        return True
    return len({s for s in sources if s != without}) >= 2
