"""Bounce classification from an SMTP reply: code, enhanced status code (RFC 3463), text.

Servers phrase the same failure many ways and often send only a generic code (5.0.0, 550),
so the wording decides when it is clear; a specific enhanced code decides otherwise. Wording
is matched by named rules grouped in families (unknown user, full mailbox, policy block, spam),
each with its provenance (delivery.provenance). An invalid address blocks the address for every
account, so `judge` gives it only on strong evidence and records which (docs/bounces.md).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .addresses import ADDRESS_IN_ASCII_WORDING, ADDRESS_IN_WORDING
from .models import BounceClass, BounceEvidence
from .provenance import PROVENANCE, independent_sources

INVALID = BounceClass.INVALID_ADDRESS
FULL = BounceClass.MAILBOX_FULL
BLOCKED = BounceClass.BLOCKED
SPAM = BounceClass.SPAM_REJECTED
OTHER = BounceClass.OTHER
# Internal families that end up as one of the classes above.
INVALID_HOST = "invalid_host"
REFUSED = "refused"
MAILER = "mailer"
TOO_BIG = "too_big"
RATE = "rate"
DISABLED = "disabled"
SYSTEM_FULL = "system_full"
TLS = "tls"

# An RFC 3463 enhanced status code (class.subject.detail) inside text: the one pattern the
# project uses for it (`find_enhanced_status`, `is_enhanced_status`).
ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_ENHANCED = ENHANCED_STATUS


def find_enhanced_status(text: str) -> str:
    """The first enhanced status code in `text` ("5.1.1"), or ""."""
    match = ENHANCED_STATUS.search(text or "")
    return ".".join(match.groups()) if match else ""


# A relaying gateway's summary around the reply it was given: Cisco Secure Email (AsyncOS)
# and Amazon SES's mailer (2012) write "5.1.0 - Unknown address error 550-'5.1.1 <a@b>: User
# unknown' (delivery attempts: 0)", newer AsyncOS "5.1.0 - Unknown address error ('550',
# ['5.1.1 <a@b>: User unknown'])". The status and words before the reply are the gateway's
# own class for it; the quoted reply is the receiving server's (RFC 3464 §2.3.6: the
# diagnostic is the remote MTA's), and its words and status decide.
_RELAY_SUMMARY = re.compile(
    r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3}) - [A-Za-z][A-Za-z ()/,.-]{0,80}? "
    r"(?:([245]\d\d)-'|\('([245]\d\d)', \[['\"])"
)

# Where the quoted reply ends: "' (delivery attempts: 0)", or the list's "'])".
_RELAY_SUMMARY_END = {
    False: re.compile(r"'(?= \(delivery attempts: \d+\))"),
    True: re.compile(r"['\"]\]\)"),
}


def relayed_reply(text: str) -> tuple[str, str]:
    """`text` with a gateway's summary taken off the reply it quotes ("5.1.0 - Unknown address
    error 550-'5.1.1 …'" → "550 5.1.1 …'"), and the summary's status ("" if none)."""
    match = _RELAY_SUMMARY.search(text or "")
    if match is None:
        return text, ""
    reply = f"{match.group(2) or match.group(3)} "
    rest = _RELAY_SUMMARY_END[bool(match.group(3))].sub("", text[match.end() :], count=1)
    return text[: match.start()] + reply + rest, match.group(1)


def is_enhanced_status(value: str) -> bool:
    """`value` is exactly one enhanced status code, e.g. "4.2.2"."""
    match = ENHANCED_STATUS.fullmatch(value or "")
    return match is not None


_CODE = re.compile(r"(?<![\d.])([245])\d\d(?=[ -]|$)", re.M)


def _words(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(p, re.I) for p in patterns]


# Checked in this order: the first family whose wording appears wins.
_FAMILIES: list[tuple[str, str, list[re.Pattern[str]]]] = [
    # A provider's own documented code says what the refusal means, whatever generic words
    # surround it: "421 cmsmtp blocked ... AUP#CXBL" is Cox's block of the sending IP. One rule
    # per provider, each backed by its published table (docs/bounces.md, "Provider codes").
    (
        "code-policy",
        BLOCKED,
        _words(
            # Cox: the sending IP blocked (CXBL, CDRBL), listed on a DNSBL (IPBLnnnn), the
            # sender refused (CXSNDR).
            r"\b(AUP#)?(CXBL|CDRBL|CXSNDR|IPBL[01]{3,4})\b",
            # Comcast: block-list (BLnnnnnn, BL00n) and reverse-DNS (ESnnnnnn) codes.
            r"\b(BL|ES)[01]{6}\b|\bBL00[4-7]\b",
            # AOL: RTR (reverse DNS, dynamic IP), RLY (IP reputation), DNS (no reverse DNS).
            # Upper case and standing alone: "Remote-MTA: dns:mx1.example.net" is no code.
            r"(?-i:\b(RTR|RLY|DNS):[A-Z][A-Z0-9](?![\w.-]))",
            # Yahoo: TSnn/TSSnn deferrals for complaints, VS unknown-recipient floods, 4.16.5x.
            # (4.16.5x only after "deferred": bare, it could be an address in 4.0.0.0/8.)
            r"\[TSS?0\d\]|\bVS99-IP1\b|\bVS1-(IP|MF)\b|deferred\b.{0,80}\b4\.16\.5\d\b",
            # Trend Micro: sender filtering and its Email Reputation Service (ERS).
            r"block (temporarily|permanently) \(sender filtering|matches \(ers\)|email reputation",
        ),
    ),
    # A provider's documented content code: AOL's HVU (a listed domain in the message).
    ("code-content", SPAM, _words(r"(?-i:\bHVU:[A-Z][A-Z0-9](?![\w.-]))")),
    # The sending side could not set up a secure channel the destination requires (STARTTLS,
    # certificates, DANE, MTA-STS): a transport failure, not a policy refusal of the sender,
    # whatever X.7 code comes with it (Exchange Online 4.7.321-325, 5.7.5).
    (
        "tls",
        TLS,
        _words(
            r"starttls-not-supported|certificate-(expired|host-mismatch)|tlsa-invalid"
            r"|dnssec-invalid|failed (dane|mta-sts) validation|certificate failed mta-sts",
        ),
    ),
    # Volume limits, as the providers word and code them: the sender will pass later, at a
    # lower rate. Before the policy and content words, which such replies often carry ("To
    # protect our users from spam, email has been temporarily rate limited": Gmail 4.7.28).
    (
        "volume",
        RATE,
        _words(
            # Only where the limit is the whole story: "rate limited because SPF does not pass"
            # names its cause, and the policy words after it decide.
            r"exceeded the (rate|connection) limit|\bRP-00[1-3]\b|rate limit (reached|exceeded)"
            r"|unusual rate of e-?mail\b",
            # Tencent (QQ Mail, Exmail): per-IP, per-domain, per-sender and per-connection limits.
            r"(ip|connection|domain|sender) frequency limited",
            # NetEase: connection, command, message and recipient counts over its limits.
            r"(?-i:\b(HL:(ICC|IFC)|MI:(CEL|DMC|CCL|SFQ|STC)|RP:(DRC|CCL|CEL|QRC|RCL|TRC))\b)",
            # Alibaba Mail: "Reject by behaviour spam ... too frequently sending", and its
            # temporary form (a reason such as "list on rbl sites" is a block, not a limit).
            r"too frequently sending|transient reject by behaviou?r spam",
            # The sender's own quota (Exchange Online 5.2.2 "Submission quota exceeded",
            # Gmail 4.7.28 "the quota for sending messages"): never a full mailbox.
            # Exchange Online's store refusing the sender's submission (SMTP AUTH) is about its
            # own mailbox too: "STOREDRV.Submission.Exception:QuotaExceeded…" (sent items), as
            # is any full mailbox or quota the reply gives the sender ("Your mailbox is full,
            # you cannot send", "Quota exceeded for sender …", "Outbox full").
            r"submission ?quota|quota for sending|storedrv\.submission\b"
            r"|\b(sender'?s|sending|your|outgoing) (e-?mail )?(account )?(mail ?box|account|quota)"
            r"\b.{0,20}\b(full|over ?quota|quota exceeded)|quota exceeded for (the )?sender"
            r"|\bout ?box (is )?full",
            # Too many connections or sessions from the sending host at once (Comcast "421 -
            # [Too many sessions opened]", GoDaddy "too many sessions from <ip>", Rackspace,
            # Orange): a concurrency limit, whatever the MTA's report says around it ("host X
            # refused to talk to me: 421 ... Too many connections, slow down").
            r"too many (concurrent |simultaneous )?(connections|sessions)\b",
            # Greylisting: a first attempt from an unknown sender is deferred on purpose and the
            # retry passes (RFC 6647 §2.1): "450 4.2.0 … Greylisted" (Postgrey), "451 4.7.1
            # Greylisting in action, please come back later". Not a refusal, whatever X.7 code.
            r"\bgr[ae]y-?list(ed|ing)?\b",
        ),
    ),
    # The local delivery program failed: not the address's fault.
    (
        "mailer",
        MAILER,
        _words(
            r"procmail|mailer error|command died|pipe to \|",
            r"local delivery failed",
            r"\bloop(s|ing)? (back to myself|detected)|mail (forwarding )?loop|too many hops",
            r"hop count exceeded",
            r"duplicated? message-id",
        ),
    ),
    # The receiving server tried to verify the address and could not finish: Postfix's
    # reject_unverified_recipient answers "Recipient address rejected: unverified address:
    # <what the probe met>" (postconf(5), unverified_recipient_defer_code: a probe that failed
    # for a temporary reason; a probe that was refused says "undeliverable address"). Some
    # sites raise that code to 550, under 5.1.1: still no proof.
    (
        "probe",
        MAILER,
        _words(r"\bunverified (address|recipient)\b"),
    ),
    # Wording that names a policy but means an unknown recipient (directory-based blocking).
    (
        "directory",
        INVALID,
        _words(
            r"recipient address rejected: access denied",
            r"recip(ient)? ?not ?found|recipientnotfound",
        ),
    ),
    # The sending side is refused: sender address, relaying, reverse DNS, lists, reputation,
    # authentication. About the sender or its server, never about the recipient address.
    (
        "sender",
        BLOCKED,
        _words(
            r"sender (address|domain|verif\w*|rejected|is not allowed|denied|blocked)",
            r"(domain|address) of sender|unroutable sender|invalid sender|sender not",
            r"bad sender|envelope sender",
            r"relay(ing)? (access )?(denied|not (permitted|allowed))|not permitted to relay",
            # sendmail's check_rcpt ("550 5.7.1 Relaying denied"); Mimecast's "Open relay not
            # allowed". A refusal to relay, or of a sending host that is an open relay.
            r"relaying (is )?(denied|prohibited)|no relaying|open relay",
            r"unable to relay|we do not relay|relay not permitted|relay access",
            r"reverse (dns|lookup)|\bptr\b|rdns|\bfcrdns|dns (ptr|reverse)",
            r"client host (rejected|blocked)|(client|sending|your) (host|ip|server) .{0,40}rejected",
            r"(helo|ehlo) .{0,30}(rejected|invalid|does ?n[o']t exist|not found)",
            r"black ?list|block ?list|\bdnsbl|\brbl\b|spamhaus|spamcop|barracuda|sorbs",
            r"(?<!not )\blisted (on|in|at)\b|(is|are) listed|ip .{0,40}(block|listed|banned)",
            r"reputation|poor reputation|complaints|unwanted messages",
            r"\b(spf|dkim|dmarc)\b|unauthenticated|not (authenticated|authorized)",
            r"authentication (fail|required|check|error)|authenticat\w* (failed|failure|error)",
            r"access denied|administratively denied|denied by policy|policy (violation|reasons)",
            r"protocol violation|syntax .{0,20}header",
            r"not accepting (connections|mail from)|connection (refused|rejected) .{0,30}policy",
            r"invalid ip for sending|not allowed to send|may not be mail exchanger",
            r"(service|connection) not available for your ip",
            r"permission to post|not have permission|posting .{0,20}(restricted|not allowed)",
            r"too many (recipients|connections) from|throttl",
            # NetEase: the sending IP or sender refused (reputation, not listed, SPF, DMARC,
            # forged sender, block lists).
            r"(?-i:\b(HL:(REP|MEP|IHU|IPB)|WM:BL[IU]|MI:(IMF|DMA|SPF|SPB)|RP:FRL|DT:(SUM|RBL))\b)",
            r"local policy|\bmi:\w+",
            r"受信拒否|拒否されました|権限がない|権限がありません",
            # Amazon SES: "Email address is not verified. The following identities failed the check".
            r"address is not verified|identities failed the check",
            # Postfix's SMTP client when the server greets with an error: "host X refused to talk
            # to me: 554 ..." (smtp_proto.c). The server refused our host before any recipient.
            r"refused to talk to me",
            # Gmail: "This message is not RFC 5322 compliant ... this message has been blocked".
            r"not (rfc[- ]?)?compliant|rfc ?5322|rfc ?2822",
            # One product's words for a relay refusal ("Insecure Mail Relay"): no second source.
            r"insecure mail relay",
            # Exim's reply when an ACL denies without a message of its own (smtp_in.c, acl.c);
            # Mimecast's "Administrative prohibition - envelope blocked" and "Rejected by header
            # based Anti-Spoofing policy" (Mimecast SMTP error codes).
            r"administrative prohibition|anti-?spoofing",
            # GMX/WEB.DE/IONOS "Reject due to policy restrictions" / "policy violations" (the
            # connection refused before any recipient), Zoho "restricted by policy".
            r"due to policy (restrictions?|violations?)|restricted by policy",
            # What does not exist is the sender: the reverse-path of MAIL FROM (RFC 5321
            # §4.1.1.2), "Mail from address does not exist", "the domain in your From address
            # does not exist", a sender callout's "sender does not exist". Never the recipient.
            r"\b(mail[- ]?from|return[- ]path|reverse[- ]path|envelope[- ]from|sending domain"
            r"|bounce address|from:? (address|domain|header)|(sender|author)'?s (address|domain)"
            r"|your (e-?mail )?(address|domain|host ?name)|(domain|address) in the from:? header"
            r"|host ?name (of|for) your ip)\b"
            r".{0,30}\b(does ?n[o']t exist|not found|unknown|invalid)"
            r"|\bsender (does ?n[o']t|did ?n[o']t) exist",
            # A refusal that names a policy as its reason (RFC 5321 §4.2.3 "command rejected
            # for policy reasons"; RFC 3463 X.7.1 per-host or per-recipient filtering), also
            # under 5.1.1: Zoho "552 5.1.1 … Mailbox delivery failure policy error", "Rejected
            # due to security policies", "Recipient rejected by policy". Not every mention of
            # a policy: Gmail's "Domain policy size per transaction exceeded" is a limit, and
            # Yandex's "Policy rejection on the target address" a blocked account.
            r"\bpolicy (error|block(ed)?|restrictions?)\b|security polic(y|ies)"
            r"|\b(rejected|refused|blocked|denied|not allowed) (by|due to|per|for)\b.{0,30}"
            r"\bpolic(y|ies)\b",
            # Mail refused for where it comes from: "does not accept mail from your IP address /
            # dynamic IPs / outside the organization", "not allowed to receive mail from
            # external senders" (RFC 3463 X.7.1: per-host or per-recipient filtering).
            r"\b(does ?n[o']t|do ?n[o']t|will not|won't) accept (e-?mails?|mails?|messages?) from\b"
            r"|\bnot (allowed|permitted) to receive (e-?mails?|mails?|messages?) from\b",
            # A server speaks to the sending client: "your domain" is the sender's (RFC 5321
            # §4.2: the reply goes to the SMTP client). "550 Unable to verify MX record for your
            # domain" checked the sender's DNS, not the recipient's; Gmail's 4.7.28 "email sent
            # from your domain has been temporarily rate limited".
            r"\b(for|of|from) your (sending |e-?mail )?domain\b"
            r"|\byour (sending )?domain (has|is|does|did|was|lacks)\b",
        ),
    ),
    # The content was refused: spam, viruses, filters, headers.
    (
        "content",
        SPAM,
        _words(
            # "virus" as a word: a gateway's name ("InterScan E-Mail VirusWall") is no reason.
            r"\bspam|junk|\buce\b|unsolicited|bulk e?mail|\bvirus(es)?\b|malware|phish|infected",
            r"content (filter|rejected|policy)|message content|rejected .{0,20}content",
            r"message (was )?filtered|\bfiltered\b|domain.?filter",
            r"suspicious|looks like (spam|junk|a virus)|mime (error|violation)|media error|forbidden attachment",
            r"message rejected due to|your message was rejected by|rejected by .{0,20}(filter|system)",
            r"\bdt:spm|content (violates|denied)|contains? .{0,30}(prohibited|unacceptable)",
            r"considered (as )?(spam|unsolicited)|detected as spam",
            r"headers? too (large|long)",
        ),
    ),
    # Blocked without saying why: after spam, so "blocked because it contains a virus" is content.
    ("blocked", BLOCKED, _words(r"\b(blocked|banned)\b")),
    # Too much mail too fast, to this recipient or from this sender: it will pass later.
    (
        "rate",
        RATE,
        _words(
            r"receiving mail at a rate|rate that prevents",
            r"sending (quota|limit)|daily .{0,20}(quota|limit)|(per|an) (hour|day) limit",
            r"too many (messages|emails|mails) (for|to) this|exceeded .{0,20}(message|sending) rate",
        ),
    ),
    # The message, not the mailbox, is too big.
    (
        "too_big",
        TOO_BIG,
        _words(
            r"message (size )?(is )?too (big|large)|message (size |length )?exceeds",
            r"exceeds? .{0,30}maximum message size|exceeded mail ?size limit"
            r"|max(imum)? (message|mail) size (exceeded|limit)",
            r"size of (the|your) message|message too long|mesgtoobig",
        ),
    ),
    # The receiving system, not the mailbox, is out of space: RFC 5321 §4.2.2 gives 452
    # "insufficient system storage" (552 "exceeded storage allocation" is the mailbox's).
    (
        "system",
        SYSTEM_FULL,
        _words(r"insufficient (disk |system )?(space|storage)|not enough (disk |storage )?space"),
    ),
    (
        "full",
        FULL,
        _words(
            r"mail ?box (is |was )?(full|over|exceed|size|storage|quota|space)",
            r"(inbox|box|storage|disk|folder) (is )?full|mailfolder is full",
            r"over ?quota|quota (exceeded|full|violation)|exceed\w* .{0,40}quota|disk quota",
            r"(exceeds?|exceeded|exceeding) .{0,40}(allowed size|size limit|storage|local limit)",
            r"user.{0,20}(full|over quota)|too many messages in|number of messages .{0,40}exceed",
            r"mailbox has exceeded|storage allocation|space (not available|exceeded)",
            r"quota ?exceeded|mailbox .{0,20}(limit|capacity)",
            r"容量.{0,10}(超過|オーバー|不足|いっぱい)|メールボックスがいっぱい",
            r"bo[iî]te (aux lettres )?pleine|postfach (ist )?voll|buz[oó]n lleno|casella piena",
            # AOL "has a full mailbox", GMX "User has too many messages on server", GoDaddy
            # "Account storage limit".
            r"\bfull mail ?box\b|too many (messages|mails) on (the )?server|account storage limit",
        ),
    ),
    (
        "host",
        INVALID_HOST,
        _words(
            r"host (or domain name )?(unknown|not found)|unknown host|domain (not found|unknown)",
            r"\b[\w-]+(\.[\w-]+)+\.? (does not|doesn't) exist",
            r"(name|host) lookup fail|dns lookup fail|unrouteable address|unroutable address",
            r"no (mx|mail exchanger)|couldn't find (a|any) (mail exchanger|host)|mx record",
            # Exim's null MX text, "an MX or SRV record indicated no SMTP service". A greeting
            # refused with "554-No SMTP service" is GMX and IONOS turning our host away, a policy
            # block with its reason on the next line (their postmaster pages).
            # "Does not accept mail from your IP / dynamic IPs / outside the organisation" is a
            # refusal of the sender (sender.33), not a domain that takes no mail.
            r"indicated no smtp service|does not accept (e?mail|mail)(?! from\b)|null mx"
            r"|accepts no mail(?! from\b)",
            r"no such domain|not accepting (network )?messages|domain name not found|nxdomain",
        ),
    ),
    # The mailbox existed: disabled, suspended, long inactive, or moved away.
    (
        "disabled",
        DISABLED,
        _words(
            r"no longer (valid|available|in use|active|exists)|has been (deleted|removed|closed)",
            r"(account|mailbox|address|user|recipient) (has been |is )?(temporarily |permanently )?"
            r"(disabled|deactivated|suspended|inactive|not active|dormant|expired|discontinued"
            r"|closed|terminated|locked)"
            r"|(inactive|dormant) (user|account|mailbox)",
            r"(mailbox|destination|user|recipient|address) has moved|moved permanently",
            r"user not local|mailbox (is )?frozen|inactive e-?mail address",
        ),
    ),
    (
        "unknown",
        INVALID,
        _words(
            r"user ?unknown|unknown (user|recipient|local|mailbox|address|account)",
            r"no such (user|mailbox|recipient|address|account|person|local user|domain|host)",
            r"(user|mailbox|recipient|address|account|domain|host)s? (does not|doesn't|do not)"
            r" exist|(does not|doesn't) exist|not exist",
            r"(user|recipient|mailbox|account|address|addressee) (is )?(not found|unknown|invalid"
            r"|not (listed|recognized|known|valid))|not (a )?valid (recipient|user|mailbox)",
            r"invalid (recipient|mailbox|address|user|account|final delivery)",
            r"(recipient|user|address) (name )?is not recognized|not listed in .{0,40}address book",
            r"no (valid )?(mailbox|recipients?|account)|mailbox not found|unknown or illegal alias",
            r"doesn't have a .{0,40} account|not our customer|not a (registered|known|valid) user",
            # Not "mailbox unavailable": RFC 5321 §4.2.3 gives that text to every 550, policy included.
            r"bad destination|address (is )?invalid",
            r"address unknown",
            r"other recipients in the same domain",
            r"宛先不明|存在しない|存在しません|見つかりません|登録されていません|使われていません",
            r"destinataire (inconnu|invalide)|adresse (inconnue|invalide)|utilisateur inconnu",
            r"n'existe pas|unbekannt|existiert nicht|usuario desconocido|no existe|sconosciuto",
            # Mimecast "550 Invalid Recipient", NetEase "550 Invalid User": never "invalid
            # address", which may be the sender's.
            r"\binvalid (recipient|user)\b",
        ),
    ),
    (
        "vague",
        OTHER,
        _words(
            r"message (is )?too (big|large)|(message|mail) size|size (limit|exceeds)|too large",
            r"retry time|timed? ?out|too long|expired|could not be delivered within|give up",
            r"connection (refused|reset|lost|closed)|network|temporar|try again later",
            r"rate limit|too many|exceeded .{0,20}(limit|rate)|limit exceeded|volume",
            r"system (error|problem|full)|internal error|server error|configuration error",
            r"syntax error|command (not recognized|unrecognized)|starttls|tls",
        ),
    ),
    # Last resort: the server refused without saying why.
    ("refused", REFUSED, _words(r"\b(rejected|refused|denied|prohibited|not allowed|reject)\b")),
]

# Enhanced codes (subject, detail) that settle the class on their own.
_CODES: dict[tuple[int, int], str] = {
    (1, 1): INVALID,  # bad destination mailbox address
    (1, 2): INVALID,  # bad destination system address
    (1, 3): INVALID,  # bad destination mailbox address syntax
    (1, 6): INVALID,  # destination mailbox has moved
    (1, 10): INVALID,  # null MX: the domain accepts no mail
    (2, 1): DISABLED,  # mailbox disabled: it may come back, so not proof
    (2, 2): FULL,  # mailbox full
    (2, 3): OTHER,  # message too long for the mailbox
    (2, 4): OTHER,  # mailing list expansion problem
    (3, 1): OTHER,  # mail system full: the server's storage, not the mailbox
    (3, 4): OTHER,  # message too big for the system
    (7, 13): DISABLED,  # user account disabled (RFC 3463 update, RFC 5248)
    (7, 14): OTHER,  # trust relationship required
}
# Address statuses (RFC 3463 X.1.x) that say the recipient address itself will never work:
# bad mailbox (1.1), bad system (1.2), bad syntax (1.3), moved with no forwarding address (1.6),
# null MX (1.10, RFC 7505). 1.0, 1.4 (ambiguous) and 1.5 (valid) prove nothing.
_ADDRESS_CODES = {(1, 1), (1, 2), (1, 3), (1, 6), (1, 10)}
# Families whose words contradict an unknown address: a full mailbox exists (RFC 3463 X.2.2), a
# full system explains the failure otherwise, and a policy or content refusal is a filter
# speaking, which may phrase it as "user unknown".
_CONTRADICT_INVALID = frozenset({FULL, SYSTEM_FULL, BLOCKED, SPAM})
# Evidence of an invalid-address verdict, strongest first.
DSN_5_1_X = BounceEvidence.DSN_5_1_X
TEXT_5_1_X = BounceEvidence.TEXT_5_1_X
WORDING = BounceEvidence.WORDING
EVIDENCE = (DSN_5_1_X, TEXT_5_1_X, WORDING)
# Codes about the sender, which the wording of the reply must not turn into the recipient's fault.
_SENDER_CODES = {(1, 7), (1, 8)}
# Reply to the end of the message data: the recipient was accepted, the content refused.
_AFTER_DATA = re.compile(
    r"(in reply to|after|response to) (the )?(end of )?data|>>> data\b"
    r"|smtp command\W+data\b|data command|end of data",
    re.I,
)


# RFC 5321 gives "Requested action not taken: mailbox unavailable" to every 550, policy
# refusals included, so on its own it proves nothing. Microsoft (Outlook.com, Hotmail) and
# United Internet (GMX, WEB.DE) document it as "no such recipient" for their own mailboxes:
# it counts as an unknown user only for an address at one of their consumer domains.
_MAILBOX_UNAVAILABLE = re.compile(r"requested action not taken:?\s+mailbox unavailable", re.I)
# Their consumer domains are .com and country domains (hotmail.fr, live.co.uk, outlook.com.br;
# gmx.net, gmx.at): never a generic .org/.net/.edu, nor a country code sold as a generic name
# (.tv, .io, .me …), where "live" or "outlook" may be anybody's.
_COUNTRY = r"(?!(?:ai|cc|co|fm|gg|io|me|tv|ws)\b)[a-z]{2}"
_DOCUMENTS_UNAVAILABLE_AS_UNKNOWN = re.compile(
    rf"(?:hotmail|outlook|live|windowslive)\.(?:com|{_COUNTRY}|co\.[a-z]{{2}}|com\.[a-z]{{2}})"
    rf"|msn\.com|gmx\.(?:com|net|{_COUNTRY}|co\.[a-z]{{2}})|web\.de",
    re.I,
)
UNAVAILABLE_RULE = "unavailable.1"
# Exchange Online's Directory-Based Edge Blocking: "550 5.4.1 Recipient address rejected:
# Access denied. AS(201806281)".
DIRECTORY_RULE = "directory.1"
_DBEB_CODE = re.compile(r"access denied\.? *as\(\d+\)", re.I)


# A further line of the same reply after "mailbox unavailable" ("550-… unavailable 550 invalid
# DNS MX …"), other than GMX's "For explanation visit <url>".
_LATER_LINE = re.compile(
    r"(?<![\w.\-\[])[245]\d\d[ -](?!\s*for explanation visit)\s*([a-z][^\n]{0,80})", re.I
)


def _later_reply_line(reply: str) -> str:
    """The words of a reply line after its "mailbox unavailable" line, or ""."""
    match = _MAILBOX_UNAVAILABLE.search(reply or "")
    later = _LATER_LINE.search(reply, match.end()) if match else None
    return later.group(1).strip() if later else ""


def documents_unavailable_as_unknown(domain: str) -> bool:
    """The domain's provider says "mailbox unavailable" means no such recipient."""
    return bool(_DOCUMENTS_UNAVAILABLE_AS_UNKNOWN.fullmatch(domain or ""))


# Wording that says a failure may pass later, whatever code came with it.
_SAYS_TEMPORARY = re.compile(r"\btry again\b|\btemporar(y|ily)\b", re.I)
# Wording that only supposes the address is bad: QQ Mail's "550 Domain may not exist or DNS
# check failed" (its check of the sender's domain). Not the unambiguous words row 11 needs.
_SAYS_MAYBE = re.compile(
    r"\b(may|might) not exist\b|\b(may|might) be (invalid|unknown|incorrect|misspelt|misspelled)\b",
    re.I,
)

# A DSN's own field names (Final-Recipient, Original-Recipient) say nothing of the SMTP stage.
_AT_RCPT = re.compile(r"rcpt|(?<!final-)(?<!original-)recipient", re.I)
# The reply answered MAIL FROM, as Postfix and Exim name the stage ("after MAIL FROM", with
# PIPELINING "after pipelined MAIL FROM", RFC 2920): no recipient had been given yet (RFC 5321
# §3.3), so whatever it says is unknown is the sender.
_AT_MAIL_FROM = re.compile(r"\b(in reply to|after|in|at) (pipelined )?mail from\b", re.I)
_ANSWERED_MAIL_FROM = "the reply answered MAIL FROM: the sender"


# The name a failed DNS lookup was for, as MTAs write it: Postfix "Name service error for
# name=example.org type=MX", sendmail "Host unknown (Name server: example.org: host not
# found)", DragonFly "DNS lookup failure: host example.org not found".
# A host name: labels and dots, the last label starting with a letter ("550-5.1.1" is a reply
# code and an enhanced status, no name).
_HOST_NAME = r"((?:[\w-]+\.)+[a-z][a-z\d-]*)\.?"
_LOOKED_UP = re.compile(
    rf"\bname={_HOST_NAME} type="
    rf"|name server: {_HOST_NAME}: (?:host not found|no data known)"
    rf"|dns lookup failure: host {_HOST_NAME} not found"
    # Gmail: "DNS type 'a' lookup of mx.example.org responded with code NXDOMAIN" (the MX
    # host's address; "type 'mx' lookup of example.org" is the domain's own). Courier's
    # check of the sender's domain: "517-Domain does not exist: sender.example."
    rf"|dns type '?\w+'? lookup of {_HOST_NAME} responded"
    rf"|domain does not exist: {_HOST_NAME}"
    rf"|(?<![\w.@-]){_HOST_NAME} (?:does ?n[o']t exist|not found)",
    re.I,
)


def _looked_up_names(text: str) -> list[str]:
    return [next(name for name in m.groups() if name) for m in _LOOKED_UP.finditer(text)]


def _codes(enhanced: str, text: str) -> tuple[tuple[int, int, int] | None, int | None]:
    """The most telling enhanced code (a specific one over x.0.0) and the SMTP reply class."""
    found = [
        (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        for source in (enhanced or "", text or "")
        for m in _ENHANCED.finditer(source)
    ]
    specific = [c for c in found if c[1:] != (0, 0)]
    best = (specific or found or [None])[0]
    # The server's own reply (in the text) beats a status the reporting MTA settled on.
    in_text = [c for c in specific if enhanced and f"{c[0]}.{c[1]}.{c[2]}" != enhanced.strip()]
    if in_text and best is not None and _ENHANCED.search(text or ""):
        text_first = next(
            (
                (int(m.group(1)), int(m.group(2)), int(m.group(3)))
                for m in _ENHANCED.finditer(text or "")
                if (m.group(2), m.group(3)) != ("0", "0")
            ),
            None,
        )
        if text_first is not None:
            best = text_first
    code_match = _CODE.search(text or "")
    return best, int(code_match.group(1)) if code_match else None


_URL = re.compile(r"\b(?:https?|ftp)://\S+", re.I)
# An antivirus stamp says the mail is clean, not why it failed: MailScanner's default
# signature ("This message has been scanned for viruses and dangerous content by MailScanner,
# and is believed to be clean."), AVG's "No virus found in this message", avast's
# "Virus-free". Only the stamp's own words go: "was scanned for viruses and found to be
# infected" keeps "found to be infected".
_SCANNER_STAMP = re.compile(
    r"\b(?:(?:has|have)\s+been|was|were)\s+(?:scanned|checked)\s+for\s+(?:viruses|spam|malware)"
    r"(?:(?:\s*,\s*|\s+and\s+|\s*&\s*)(?:viruses|spam|malware|dangerous\s+content))*"
    r"|\bbelieved\s+to\s+be\s+clean\b"
    r"|\bno\s+virus(?:es)?\s+(?:was\s+|were\s+)?(?:found|detected)\b"
    r"|\bvirus[- ]free\b",
    re.I,
)

# The name of a mail server is no wording: "host mx1.spamexperts.com[192.0.2.1] said: 550 5.1.1
# User unknown" is an unknown user, whichever filtering service runs the receiving MX. Only where
# the text says the name is a server's or a domain looked up: after "host" (Postfix, Exim), "dns;"
# (RFC 3464's MTA fields), "talking to" (sendmail), "Generating server:" (Exchange), "relay=",
# "host named" (qmail), "name=" (Postfix's DNS errors), or before its bracketed IP address.
# Elsewhere a name may be the reason ("listed in zen.spamhaus.org", Exchange's
# "RESOLVER.ADR.RecipientNotFound").
_NAME = r"[a-z0-9-]++(?:\.[a-z0-9-]++)++\.?"
_SERVER_NAME = re.compile(
    rf"(\b(?:host(?:\s+named)?|dns\s*;|talking\s+to|generating\s+server\s*:|relay=|name=)\s*)"
    rf"({_NAME})"
    rf"|(?<![\w.-])({_NAME})(?=\s*\[(?:\d|ipv6:))",
    re.I,
)


# Any other domain name in lower case ("mx.junk-mail.example", "for 'spam-filter.example'") is
# a name too, unless it is a DNS block list's zone, which can be the reason ("blocked using
# zen.spamhaus.org"). Exchange's dotted codes ("RESOLVER.ADR.RecipientNotFound") are not lower
# case, and stay words.
_DOMAIN_NAME = re.compile(r"(?<![\w.@-])(?:[a-z0-9-]++\.)+[a-z]{2,24}\.?(?![\w@-])")
_BLOCK_LIST_ZONE = re.compile(
    r"spamhaus|spamcop|sorbs|barracudacentral|abuseat|uceprotect|surbl|uribl|mailspike"
    r"|spamrats|psbl|backscatterer|senderscore|dnsbl|\brbl|\bbl\b|blocklist|blacklist"
)


def _without_server_names(text: str) -> str:
    text = _SERVER_NAME.sub(lambda m: (m.group(1) or "") + "<host>", text)
    return _DOMAIN_NAME.sub(
        lambda m: m.group(0) if _BLOCK_LIST_ZONE.search(m.group(0)) else "<host>", text
    )


# A local part where an MTA names the recipient by it alone: Postfix's local(8) 'unknown user:
# "bob"', Domino's "User bob (bob@example.org) not listed in Domino Directory", CommuniGate's
# "LOCAL module(account bob) reports:", sendmail's local mailer ("bob... Deferred: …" at the
# start of a line; "bob" on its own line, then "(expanded from: bob)"). It is a name ("junk",
# "spam"), not words. The line forms are looked for before lines are joined.
_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]++"
_LOCAL_PART_ALONE = re.compile(
    rf'(?<=user: "){_LOCAL}(?=")|(?<=\buser ){_LOCAL}(?= \(<address>\))'
    rf"|(?<=expanded from: ){_LOCAL}(?=\))|(?<=\(account ){_LOCAL}(?=\))",
    re.I,
)
_LOCAL_PART_LINE = re.compile(
    r"^[ \t]*+[\w!#$%&'*+/=?^`{|}~-][\w.!#$%&'*+/=?^`{|}~-]*?(?=\.\.\.[ \t])"
    rf"|^[ \t]*+{_LOCAL}(?=[ \t]*+\r?\n[ \t]*+\(expanded from)",
    re.M,
)


# A multi-line SMTP reply repeats its code, and often its enhanced status, on every line
# (RFC 5321 §4.2.1: "550-5.1.1 The email account that you tried to reach does not" /
# "550 5.1.1 exist."); Postfix's DSNs join the lines with spaces and keep the prefixes, sendmail's
# transcripts put "<<< " before each. The repeated code is no wording, and the server may have
# broken a phrase at the end of any line.
_CONTINUED_REPLY = re.compile(r"(?<![\w.-])([245]\d\d)-(?=\S)")
_SPACES = re.compile(r"\s+")


def _words_of(text: str) -> str:
    """What `text` says, on one line: a multi-line reply read as one, the code (and enhanced
    status) that starts each of its lines taken out, and the line breaks that MTAs wrap a
    reply or an explanation at ("(in reply to end of" / "    DATA command)") read as spaces."""
    codes = sorted({match.group(1) for match in _CONTINUED_REPLY.finditer(text)})
    if codes:
        prefix = rf"(?<![\w.-])(?:<<<\s*)?(?:{'|'.join(codes)})[ -](?:[245]\.\d{{1,3}}\.\d{{1,3}}(?=\s))?"
        text = re.sub(prefix, " ", text)
    return _SPACES.sub(" ", text)


@dataclass(frozen=True)
class Rule:
    """One wording rule: a pattern, the family it points to, and where it comes from."""

    id: str
    family: str
    pattern: re.Pattern[str]


RULES: list[Rule] = [
    Rule(f"{block}.{n}", family, pattern)
    for block, family, patterns in _FAMILIES
    for n, pattern in enumerate(patterns, 1)
]
RULES_BY_ID = {rule.id: rule for rule in RULES}
# A rule speaks only when a standard, a provider's documentation or two independent source
# families back it (delivery.provenance); the others stay listed, switched off, for review.
ACTIVE_RULES = [rule for rule in RULES if independent_sources(PROVENANCE.get(rule.id, ()))]

# Rules switched off for the current evaluation fold (see classify_bounce --evaluate).
_switched_off: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "switched_off", default=frozenset()
)


def switched_off() -> frozenset[str]:
    """The wording rules switched off right now (none outside an evaluation)."""
    return _switched_off.get()


@contextlib.contextmanager
def rules_switched_off(rule_ids: frozenset[str]) -> Iterator[None]:
    """Classify without some wording rules, as if they had never been written."""
    token = _switched_off.set(frozenset(rule_ids))
    try:
        yield
    finally:
        _switched_off.reset(token)


def _rule_text(text: str | None) -> str:
    """What the rules read of a text. Links, addresses and antivirus stamps are not wording:
    neither a help page's path, a local part such as "no-such-user@" nor "scanned for viruses"
    says anything about this failure."""
    text = _URL.sub(" ", _words_of(_LOCAL_PART_LINE.sub("<address>", text or "")))
    # ASCII text holds ASCII addresses only: the cheaper pattern finds them all.
    pattern = ADDRESS_IN_ASCII_WORDING if text.isascii() else ADDRESS_IN_WORDING
    text = pattern.sub("<address>", text)
    text = _SCANNER_STAMP.sub(" ", text)
    return _LOCAL_PART_ALONE.sub("<address>", _without_server_names(text))


def _families_in(rule_text: str) -> set[str]:
    """Every clear failure one text (as `_rule_text` gives it) names, not only its first."""
    off = _switched_off.get()
    return {
        rule.family
        for rule in ACTIVE_RULES
        if rule.family not in (OTHER, REFUSED)
        and rule.id not in off
        and rule.pattern.search(rule_text)
    }


# "User does not exist or mailbox is full": the text offers causes as alternatives.
_ALTERNATIVES = re.compile(r"\b(or|oder|ou|o)\b", re.I)
# Classes that are one cause, whichever of their families names it.
_SAME_CAUSE = {INVALID: {INVALID, INVALID_HOST}, INVALID_HOST: {INVALID, INVALID_HOST}}


def _offers_alternatives(texts: list[str], family: str) -> bool:
    """The text whose words decided names `family` and another cause in one sentence, joined
    by "or": the server does not say which, so it claims neither. (Another sentence's "or" is
    not about this cause: Exchange Online's NDR for an unknown recipient goes on "The address
    may be misspelled or may not exist" in its advice.)"""
    off = _switched_off.get()

    def names_family(words: str) -> bool:
        return any(
            rule.family == family and rule.id not in off and rule.pattern.search(words)
            for rule in ACTIVE_RULES
        )

    others = _SAME_CAUSE.get(family, {family})
    for text in texts:
        rule_text = _rule_text(text)
        if not names_family(rule_text):
            continue
        # Only a sentence that offers alternatives is read for every cause it names.
        return any(
            _ALTERNATIVES.search(sentence)
            and names_family(sentence)
            and bool(_families_in(sentence) - others)
            for sentence in _SENTENCE_END.split(rule_text)
        )
    return False


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n")


def _from_texts(texts: list[str]) -> tuple[str | None, str]:
    """The first clear family, looking at each text in turn; else the first vague one.
    Returns (family, id of the rule that found it).

    A bare refusal ("rejected", "denied") counts only in the server's own words, the first
    text, when there are any: an MTA's explanation says the same of every failure ("the
    destination server rejected it"), whatever the reply gave as the reason."""
    vague: tuple[str | None, str] = (None, "")
    off = _switched_off.get()
    for index, text in enumerate(texts):
        text = _rule_text(text)
        for rule in ACTIVE_RULES:
            if rule.id in off or not rule.pattern.search(text):
                continue
            if rule.family not in (OTHER, REFUSED):
                return rule.family, rule.id
            if vague[0] is None and not (rule.family == REFUSED and index > 0 and texts[0].strip()):
                vague = (rule.family, rule.id)
    return vague


@dataclass(frozen=True)
class Verdict:
    """A classification with what it rests on.

    `evidence` is set for invalid addresses only, strongest first: `dsn_5_1_x` (a 5.1.x status
    in a structured field: a DSN's Status or the enhanced code of the SMTP reply itself),
    `text_5_1_x` (a 5.1.x code found in free text only), `wording` (a 5xx reply whose words say
    the mailbox or domain does not exist, with no 5.1.x code). `rule` names what decided.
    """

    bounce_class: str
    evidence: str = ""
    rule: str = ""
    reason: str = ""


def classify_reply(code: int | None, enhanced: str = "", text: str = "") -> str:
    """Classify one SMTP reply into a BounceClass value."""
    return judge(code, enhanced, [text], structured=bool(enhanced)).bounce_class


def classify_texts(
    code: int | None, enhanced: str, texts: list[str], in_report: bool = False
) -> str:
    """Classify a failure described by several texts (see `judge`)."""
    return judge(code, enhanced, texts, in_report=in_report).bounce_class


def judge(
    code: int | None,
    enhanced: str,
    texts: list[str],
    in_report: bool = False,
    structured: bool = False,
    failed: bool = False,
    recipient_domain: str = "",
) -> Verdict:
    """Classify a failure described by several texts, most specific first (the server's reply,
    then the bounce's explanation): wording in an earlier text wins.

    `structured` says `enhanced` was read from a field (a DSN's Status, an event's
    smtp.enhanced) rather than found in text. `failed` says a report gave the recipient up for
    good (RFC 3464 Action: failed) though it quotes no reply code. `in_report` says the texts come from a bounce
    report, which normally shows the SMTP command the reply answered; an "unknown user" that is
    not shown to answer RCPT TO then needs an X.1.x status to count as an invalid address.
    `recipient_domain` is the failed address's domain: a few providers document what their
    generic replies mean for their own mailboxes. The precedence is written down in
    docs/bounces.md.
    """
    unwrapped = [relayed_reply(t) for t in texts]
    texts = [text for text, _ in unwrapped]
    if enhanced and not structured and enhanced.strip() in {s for _, s in unwrapped}:
        enhanced = ""  # a gateway's class for the reply, not the server's status
    family, rule = _from_texts(texts)
    text = "\n".join(t for t in texts if t)
    status, reply_class = _codes(enhanced, text)
    words = _words_of(text)
    if code:
        reply_class = int(str(code)[0])
    temporary = (status[0] if status else reply_class) == 4
    permanent = (status[0] if status else reply_class) == 5
    subject_detail = status[1:] if status else None
    status_text = ".".join(map(str, status)) if status else ""

    if (
        family in (None, OTHER)
        and (permanent or (failed and reply_class is None and status is None))
        and subject_detail in (None, (0, 0), (5, 0))
        and UNAVAILABLE_RULE not in _switched_off.get()
        and documents_unavailable_as_unknown(recipient_domain)
        and _MAILBOX_UNAVAILABLE.search(words)
    ):
        # Outlook.com answers RCPT TO for a missing hotmail.com / outlook.com address with
        # "550 5.5.0 Requested action not taken: mailbox unavailable", GMX with the bare 550.
        if _AFTER_DATA.search(words):
            return Verdict(OTHER, rule=UNAVAILABLE_RULE, reason="refused after the data")
        if _AT_MAIL_FROM.search(words):
            return Verdict(BLOCKED, rule=UNAVAILABLE_RULE, reason=_ANSWERED_MAIL_FROM)
        later = _later_reply_line(texts[0] if texts else "")
        if later:
            # GMX: "The last line of the multi-line error message is decisive" (postmaster
            # "Error messages"): "550-… mailbox unavailable / 550 invalid DNS MX or A/AAAA
            # resource record" refuses the sending domain's DNS, not the recipient.
            return Verdict(OTHER, rule=UNAVAILABLE_RULE, reason=f"a later line decides: {later}")
        return Verdict(INVALID, evidence=WORDING, rule=UNAVAILABLE_RULE)

    if subject_detail in _SENDER_CODES:
        return Verdict(BLOCKED, rule=f"status:{status_text}", reason="the sender was refused")
    if rule == DIRECTORY_RULE and subject_detail != (4, 1) and not _DBEB_CODE.search(text):
        # "Recipient address rejected: Access denied" is Exchange Online's Directory-Based Edge
        # Blocking only with its 5.4.1 or its AS(…) code; bare, it is Postfix's access(5)
        # default REJECT text, a policy (RFC 3463 X.7.1).
        return Verdict(BLOCKED, rule=rule, reason="access denied, not Microsoft's 5.4.1")
    if (
        family == INVALID
        and subject_detail is not None
        and subject_detail[0] == 5
        and subject_detail != (5, 0)
    ):
        # A protocol status (RFC 3463 X.5.x: invalid command, syntax, sequence) says nothing
        # of the mailbox: Postfix answers DATA with "554 5.5.1 Error: no valid recipients" once
        # every RCPT TO was refused, for whatever reason.
        return Verdict(
            OTHER, rule=rule, reason=f"unknown-user words under protocol status {status_text}"
        )
    # Clear wording beats the code; vague wording ("rejected", "timed out") does not.
    if family is not None and family not in (OTHER, REFUSED):
        bounce_class = family
    elif subject_detail in _CODES:
        bounce_class, rule = _CODES[subject_detail], f"status:{status_text}"
    elif subject_detail is not None and subject_detail[0] == 7:
        bounce_class, rule = BLOCKED, f"status:{status_text}"
    elif subject_detail is not None and subject_detail[0] == 6:
        bounce_class, rule = SPAM, f"status:{status_text}"
    elif subject_detail is not None and subject_detail[0] == 1 and family in (REFUSED, None):
        # "550 5.1.0 Recipient rejected": an address status (RFC 3463 X.1.x) says the address
        # is what failed, not a policy; one that is no proof of a dead mailbox is `other`.
        reason = f"status {status_text} is no proof"
        return Verdict(OTHER, rule=rule or f"status:{status_text}", reason=reason)
    elif family is not None:
        bounce_class = family
    else:
        bounce_class, rule = OTHER, (f"status:{status_text}" if status else "")

    if (
        family in (INVALID, INVALID_HOST, FULL)
        and bounce_class == family
        and _offers_alternatives(texts, family)
    ):
        # "User does not exist or mailbox is full": a global block or a full-inbox auto-block
        # needs the cause named, not offered among others (the "weak or conflicting").
        return Verdict(OTHER, rule=rule, reason="the reply offers several causes")
    address_status = subject_detail in _ADDRESS_CODES
    if bounce_class == DISABLED and address_status and not temporary:
        if not (rule == "disabled.3" or subject_detail == (1, 6)):  # disabled.3: "has moved"
            # "550 5.1.1 Inactive email address": the code says no such mailbox, the words
            # that it exists and is switched off. Conflicting evidence blocks nobody.
            reason = f"the words say the mailbox exists, disabled, under {status_text}"
            return Verdict(OTHER, rule=rule, reason=reason)
        bounce_class = INVALID  # "has moved" under 5.1.6: the code settles it
    if bounce_class == FULL and subject_detail is not None and subject_detail[0] == 7:
        # "550 5.7.1 Email quota exceeded" (Gmail): a quota under a policy status is the
        # sender's allowance, not the recipient's mailbox (RFC 3463 X.2.2 is the full mailbox).
        return Verdict(OTHER, rule=rule, reason=f"a quota under policy status {status_text}")
    if bounce_class == FULL and _AT_MAIL_FROM.search(words):
        # A full mailbox named before any recipient (RFC 5321 §3.3) is the sender's.
        return Verdict(OTHER, rule=rule, reason=_ANSWERED_MAIL_FROM)
    if bounce_class in (MAILER, TOO_BIG, RATE, DISABLED, SYSTEM_FULL, TLS):
        return Verdict(OTHER, rule=rule)
    if bounce_class == REFUSED:
        return Verdict(BLOCKED, rule=rule)
    if bounce_class not in (INVALID, INVALID_HOST):
        return Verdict(bounce_class, rule=rule)

    # An invalid address blocks the address for every account: it needs strong evidence.
    if temporary:
        return Verdict(OTHER, rule=rule, reason="a temporary failure cannot prove it")
    if _AT_MAIL_FROM.search(words):
        return Verdict(BLOCKED, rule=rule, reason=_ANSWERED_MAIL_FROM)
    if subject_detail is not None and subject_detail[0] == 7 and subject_detail not in _CODES:
        # "User unknown" under a security or policy status: a filter refused the recipient,
        # which says nothing certain about the address.
        return Verdict(BLOCKED, rule=rule, reason="unknown user under a policy status")
    if (
        bounce_class == INVALID
        and not address_status
        and (_AFTER_DATA.search(words) or (in_report and not _AT_RCPT.search(words)))
    ):
        # "User unknown" after the data was sent (or at an unknown stage of a session) is a
        # content filter speaking, not proof that the mailbox does not exist. Checked before
        # the mailbox status below: "550 5.2.1 User unknown" with no RCPT stage is a filter
        # too (the mailbox exists, RFC 3463 X.2.1, and refused this message).
        return Verdict(SPAM, rule=rule, reason="unknown user outside RCPT TO")
    if subject_detail is not None and subject_detail[0] == 2:
        # A mailbox status says the mailbox exists (RFC 3463 X.2.X): the words conflict.
        return Verdict(OTHER, rule=rule, reason=f"status {status_text} says the mailbox exists")
    if family in (INVALID, INVALID_HOST) and recipient_domain:
        looked_up = {name.lower().rstrip(".") for name in _looked_up_names(text)}
        if looked_up and recipient_domain.lower() not in looked_up:
            # "Name service error for name=relay.internal type=A", "550 acme.example does
            # not exist": what could not be found is a relay's, an MX's or the sender's name,
            # not the recipient's domain. A broken smart host would otherwise block every
            # recipient it was handed.
            named = ", ".join(sorted(looked_up))
            return Verdict(OTHER, rule=rule, reason=f"the failed lookup was for {named}")
    conflicting = _named_elsewhere(texts) & _CONTRADICT_INVALID
    if conflicting:
        # One text says the address is unknown, another that the mailbox is full or that a
        # policy refused the mail (rfc3464-style reports carry both a reply and a prose
        # explanation): conflicting evidence never blocks an address for everyone.
        named = ", ".join(sorted(str(f) for f in conflicting))
        return Verdict(OTHER, rule=rule, reason=f"conflicting evidence: another text says {named}")
    if address_status and texts and _SAYS_TEMPORARY.search(_words_of(texts[0])):
        # "550 5.1.1 Recipient verification failed: temporary lookup failure, try again later":
        # the server's own words contradict its code (row 4 for the words).
        return Verdict(OTHER, rule=rule, reason="the reply says it may work later")
    if address_status:
        from_field = structured and enhanced.strip() == status_text
        evidence = DSN_5_1_X if from_field else TEXT_5_1_X
        return Verdict(INVALID, evidence=evidence, rule=rule or f"status:{status_text}")
    if subject_detail is not None and subject_detail[0] == 1:
        # Another address status (ambiguous, valid, sender...): not proof of a dead mailbox.
        return Verdict(OTHER, rule=rule, reason=f"status {status_text} is no proof")
    if (permanent or (failed and reply_class is None and status is None)) and family in (
        INVALID,
        INVALID_HOST,
    ):
        if _SAYS_TEMPORARY.search(words):
            # "Host not found, try again" is a DNS lookup that may succeed later (Postfix's
            # text for TRY_AGAIN, RFC 1035 SERVFAIL): wording alone cannot prove it permanent.
            return Verdict(OTHER, rule=rule, reason="the wording says it may work later")
        if _SAYS_MAYBE.search(words):
            return Verdict(OTHER, rule=rule, reason="the wording only says it may not exist")
        return Verdict(INVALID, evidence=WORDING, rule=rule)
    return Verdict(OTHER, rule=rule, reason="no 5xx reply or 5.1.x status backs the wording")


def _named_elsewhere(texts: list[str]) -> set[str]:
    """The clear failure each text names on its own (its first matching family)."""
    return {family for family, _ in (_from_texts([t]) for t in texts if t)} - {None}


def is_hard(bounce_class: str) -> bool:
    """Hard means the address itself will never work: only invalid addresses.

    Every other class (a full mailbox, a policy block, rejected content, a network failure)
    says nothing about whether the address exists, so it is soft, even when the reply was 5xx.
    """
    return bounce_class == BounceClass.INVALID_ADDRESS
