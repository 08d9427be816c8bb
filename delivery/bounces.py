"""Bounce classification from an SMTP reply: code, enhanced status code (RFC 3463), text.

Servers phrase the same failure many ways and often send only a generic code (5.0.0, 550),
so the wording decides when it is clear; a specific enhanced code decides otherwise. Wording
is matched by families (unknown user, full mailbox, policy block, spam) rather than by server.
"""

from __future__ import annotations

import re

from .models import BounceClass

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

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_CODE = re.compile(r"(?<![\d.])([245])\d\d(?=[ -]|$)", re.M)


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.I)


# Checked in this order: the first family whose wording appears wins.
_FAMILIES: list[tuple[str, re.Pattern[str]]] = [
    # The local delivery program failed: not the address's fault.
    (
        MAILER,
        _words(
            r"procmail|mailer error|command died|pipe to \|",
            r"local delivery failed",
            r"\bloop(s|ing)? (back to myself|detected)|mail (forwarding )?loop|too many hops",
            r"hop count exceeded",
            r"duplicated? message-id",
        ),
    ),
    # Wording that names a policy but means an unknown recipient (directory-based blocking).
    (
        INVALID,
        _words(
            r"recipient address rejected: access denied",
            r"recip(ient)? ?not ?found|recipientnotfound",
        ),
    ),
    # The sending side is refused: sender address, relaying, reverse DNS, lists, reputation,
    # authentication. About the sender or its server, never about the recipient address.
    (
        BLOCKED,
        _words(
            r"sender (address|domain|verif\w*|rejected|is not allowed|denied|blocked)",
            r"(domain|address) of sender|unroutable sender|invalid sender|sender not",
            r"bad sender|envelope sender",
            r"relay(ing)? (access )?(denied|not (permitted|allowed))|not permitted to relay",
            r"relaying (is )?(denied|prohibited)|no relaying|open relay|insecure mail relay",
            r"unable to relay|we do not relay|relay not permitted|relay access",
            r"reverse (dns|lookup)|\bptr\b|rdns|\bfcrdns|dns (ptr|reverse)",
            r"client host (rejected|blocked)|(client|sending|your) (host|ip|server) .{0,40}rejected",
            r"(helo|ehlo) .{0,30}(rejected|invalid)",
            r"black ?list|block ?list|\bdnsbl|\brbl\b|spamhaus|spamcop|barracuda|sorbs",
            r"(?<!not )\blisted (on|in|at)\b|(is|are) listed|ip .{0,40}(block|listed|banned)",
            r"reputation|poor reputation|complaints|unwanted messages",
            r"\b(spf|dkim|dmarc)\b|unauthenticated|not (authenticated|authorized)",
            r"authentication (fail|required|check|error)|authenticat\w* (failed|failure|error)",
            r"access denied|administratively denied|denied by policy|policy (violation|reasons)",
            r"protocol violation|not (rfc[- ]?)?compliant|rfc ?5322|rfc ?2822|syntax .{0,20}header",
            r"not accepting (connections|mail from)|connection (refused|rejected) .{0,30}policy",
            r"invalid ip for sending|not allowed to send|may not be mail exchanger",
            r"not verified|identities failed|(service|connection) not available for your ip",
            r"permission to post|not have permission|posting .{0,20}(restricted|not allowed)",
            r"too many (recipients|connections) from|throttl|refused to talk to me",
            r"(ip|connection|domain) frequency limited",
            r"administrative prohibition|local policy|anti-?spoofing|\bmi:\w+",
            r"受信拒否|拒否されました|権限がない|権限がありません",
        ),
    ),
    # The content was refused: spam, viruses, filters, headers.
    (
        SPAM,
        _words(
            r"\bspam|junk|\buce\b|unsolicited|bulk e?mail|virus|malware|phish|infected",
            r"content (filter|rejected|policy)|message content|rejected .{0,20}content",
            r"message (was )?filtered|\bfiltered\b|domain.?filter|headers? too (large|long)",
            r"suspicious|looks like (spam|junk|a virus)|mime (error|violation)|media error|forbidden attachment",
            r"message rejected due to|your message was rejected by|rejected by .{0,20}(filter|system)",
            r"\bdt:spm|content (violates|denied)|contains? .{0,30}(prohibited|unacceptable)",
            r"considered (as )?(spam|unsolicited)|detected as spam",
        ),
    ),
    # Blocked without saying why: after spam, so "blocked because it contains a virus" is content.
    (BLOCKED, _words(r"\b(blocked|banned)\b")),
    # Too much mail too fast, to this recipient or from this sender: it will pass later.
    (
        RATE,
        _words(
            r"receiving mail at a rate|rate that prevents",
            r"sending (quota|limit)|daily .{0,20}(quota|limit)|(per|an) (hour|day) limit",
            r"too many (messages|emails|mails) (for|to) this|exceeded .{0,20}(message|sending) rate",
        ),
    ),
    # The message, not the mailbox, is too big.
    (
        TOO_BIG,
        _words(
            r"message (size )?(is )?too (big|large)|message (size |length )?exceeds",
            r"exceeds? .{0,30}maximum message size|exceeded mail ?size limit",
            r"size of (the|your) message|message too long|mesgtoobig",
        ),
    ),
    (
        FULL,
        _words(
            r"mail ?box (is |was )?(full|over|exceed|size|storage|quota)",
            r"(inbox|box|storage|disk|folder) (is )?full|mailfolder is full",
            r"over ?quota|quota (exceeded|full|violation)|exceed\w* .{0,40}quota|disk quota",
            r"(exceeds?|exceeded|exceeding) .{0,40}(allowed size|size limit|storage|local limit)",
            r"insufficient (disk |system )?(space|storage)|not enough (disk |storage )?space",
            r"user.{0,20}(full|over quota)|too many messages in|number of messages .{0,40}exceed",
            r"mailbox has exceeded|storage allocation|space (not available|exceeded)",
            r"quota ?exceeded|mailbox .{0,20}(limit|capacity)",
            r"容量.{0,10}(超過|オーバー|不足|いっぱい)|メールボックスがいっぱい",
            r"bo[iî]te (aux lettres )?pleine|postfach (ist )?voll|buz[oó]n lleno|casella piena",
        ),
    ),
    (
        INVALID_HOST,
        _words(
            r"host (or domain name )?(unknown|not found)|unknown host|domain (not found|unknown)",
            r"\b[\w-]+(\.[\w-]+)+\.? (does not|doesn't) exist",
            r"(name|host) lookup fail|dns lookup fail|unrouteable address|unroutable address",
            r"no (mx|mail exchanger)|couldn't find (a|any) (mail exchanger|host)|mx record",
            r"no smtp service|does not accept (e?mail|mail)|null mx|accepts no mail",
            r"no such domain|not accepting (network )?messages|domain name not found|nxdomain",
        ),
    ),
    # The mailbox existed: disabled, suspended, long inactive, or moved away.
    (
        DISABLED,
        _words(
            r"no longer (valid|available|in use|active|exists)|has been (deleted|removed|closed)",
            r"(account|mailbox|address|user) (has been |is )?(disabled|deactivated|suspended"
            r"|inactive|expired|discontinued|closed|terminated)|inactive (user|account|mailbox)",
            r"(mailbox|destination|user|recipient|address) has moved|moved permanently",
            r"user not local|mailbox (is )?frozen|inactive e-?mail address",
        ),
    ),
    (
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
            r"bad destination|address (is )?(invalid|unavailable)|mailbox (is )?unavailable",
            r"address unknown",
            r"other recipients in the same domain",
            r"宛先不明|存在しない|存在しません|見つかりません|登録されていません|使われていません",
            r"destinataire (inconnu|invalide)|adresse (inconnue|invalide)|utilisateur inconnu",
            r"n'existe pas|unbekannt|existiert nicht|usuario desconocido|no existe|sconosciuto",
        ),
    ),
    (
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
    (REFUSED, _words(r"\b(rejected|refused|denied|prohibited|not allowed|reject)\b")),
]

# Enhanced codes (subject, detail) that settle the class on their own.
_CODES: dict[tuple[int, int], str] = {
    (1, 1): INVALID,  # bad destination mailbox address
    (1, 2): INVALID,  # bad destination system address
    (1, 3): INVALID,  # bad destination mailbox address syntax
    (1, 6): INVALID,  # destination mailbox has moved
    (1, 10): INVALID,  # null MX: the domain accepts no mail
    (2, 1): INVALID,  # mailbox disabled
    (2, 2): FULL,  # mailbox full
    (2, 3): OTHER,  # message too long for the mailbox
    (2, 4): OTHER,  # mailing list expansion problem
    (3, 1): FULL,  # mail system full
    (3, 4): OTHER,  # message too big for the system
    (7, 13): INVALID,  # user account disabled
    (7, 14): OTHER,  # trust relationship required
}
# Codes about the sender, which the wording of the reply must not turn into the recipient's fault.
_SENDER_CODES = {(1, 7), (1, 8)}
# Reply to the end of the message data: the recipient was accepted, the content refused.
_AFTER_DATA = re.compile(
    r"(in reply to|after|response to) (the )?(end of )?data|>>> data\b"
    r"|smtp command\W+data\b|data command|end of data",
    re.I,
)


_AT_RCPT = re.compile(r"rcpt|recipient", re.I)


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
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _from_texts(texts: list[str]) -> str | None:
    """The first clear family, looking at each text in turn; else the first vague one."""
    vague = None
    for text in texts:
        # Links and addresses are not wording: neither a help page's path nor a local part
        # such as "no-such-user@" says anything about this failure.
        text = _ADDRESS.sub("<address>", _URL.sub(" ", text or ""))
        for family, pattern in _FAMILIES:
            if pattern.search(text):
                if family not in (OTHER, REFUSED):
                    return family
                vague = vague or family
    return vague


def classify_reply(code: int | None, enhanced: str = "", text: str = "") -> str:
    """Classify one SMTP reply into a BounceClass value."""
    return classify_texts(code, enhanced, [text])


def classify_texts(
    code: int | None, enhanced: str, texts: list[str], in_report: bool = False
) -> str:
    """Classify a failure described by several texts, most specific first (the server's reply,
    then the bounce's explanation): wording in an earlier text wins.

    `in_report` says the texts come from a bounce report, which normally shows the SMTP command
    the reply answered; an "unknown user" that is not shown to answer RCPT TO then needs an
    X.1.x status to count as an invalid address.
    """
    family = _from_texts(texts)
    text = "\n".join(t for t in texts if t)
    status, reply_class = _codes(enhanced, text)
    if code:
        reply_class = int(str(code)[0])
    temporary = (status[0] if status else reply_class) == 4
    subject_detail = status[1:] if status else None

    if subject_detail in _SENDER_CODES:
        return BLOCKED
    # Clear wording beats the code; vague wording ("rejected", "timed out") does not.
    if family is not None and family not in (OTHER, REFUSED):
        bounce_class = family
    elif subject_detail in _CODES:
        bounce_class = _CODES[subject_detail]
    elif subject_detail is not None and subject_detail[0] == 7:
        bounce_class = BLOCKED
    elif subject_detail is not None and subject_detail[0] == 6:
        bounce_class = SPAM
    elif family is not None:
        bounce_class = family
    else:
        bounce_class = OTHER

    if bounce_class in (INVALID, INVALID_HOST, DISABLED) and temporary:
        # A temporary failure cannot prove that the address does not exist.
        return OTHER
    policy_status = subject_detail is not None and subject_detail[0] == 7
    if bounce_class == INVALID and policy_status and subject_detail not in _CODES:
        # "User unknown" under a security or policy status: a filter refused the recipient,
        # which says nothing certain about the address.
        return BLOCKED
    address_status = subject_detail is not None and subject_detail[0] == 1
    at_unknown_stage = in_report and not _AT_RCPT.search(text)
    if (
        bounce_class == INVALID
        and not address_status
        and (_AFTER_DATA.search(text) or at_unknown_stage)
    ):
        # "User unknown" after the data was sent (or at an unknown stage of a session) is a
        # content filter speaking, not proof that the mailbox does not exist.
        return SPAM
    if bounce_class in (INVALID_HOST, DISABLED):
        bounce_class = INVALID
    elif bounce_class in (MAILER, TOO_BIG, RATE):
        bounce_class = OTHER
    elif bounce_class == REFUSED:
        bounce_class = BLOCKED
    return bounce_class


def is_hard(bounce_class: str) -> bool:
    """Hard means the address itself will never work: only invalid addresses.

    Every other class (a full mailbox, a policy block, rejected content, a network failure)
    says nothing about whether the address exists, so it is soft, even when the reply was 5xx.
    """
    return bounce_class == BounceClass.INVALID_ADDRESS
