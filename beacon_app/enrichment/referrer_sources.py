"""Enrichment data: which referrer hosts and utm_source values are which named source.

`SOURCES` maps a host suffix to a source name and is matched on the host or a parent
domain, never as a substring (`notgoogle.com` is not Google). `CATEGORIES` says which
names are search engines, social networks, video sites or email, which is what the
channel rules need. Extend a table by adding a line; tests cover each category.
"""

from __future__ import annotations

import re

SEARCH, SOCIAL, VIDEO, EMAIL = "search", "social", "video", "email"

SOURCES: dict[str, str] = {
    # Search engines (Google on every ccTLD is matched by FAMILIES below).
    "bing.com": "Bing", "duckduckgo.com": "DuckDuckGo", "ecosia.org": "Ecosia",
    "search.yahoo.com": "Yahoo", "yahoo.com": "Yahoo", "yahoo.co.jp": "Yahoo",
    "ya.ru": "Yandex", "baidu.com": "Baidu", "search.brave.com": "Brave Search",
    "qwant.com": "Qwant", "startpage.com": "Startpage", "kagi.com": "Kagi",
    "naver.com": "Naver", "seznam.cz": "Seznam", "sogou.com": "Sogou", "ask.com": "Ask",
    "search.aol.com": "AOL", "mojeek.com": "Mojeek", "you.com": "You.com",
    # Google properties that are not the search page.
    "docs.google.com": "Google Docs", "drive.google.com": "Google Drive",
    "classroom.google.com": "Google Classroom", "groups.google.com": "Google Groups",
    "gemini.google.com": "Gemini",
    # Social networks and communities.
    "facebook.com": "Facebook", "fb.com": "Facebook", "fb.me": "Facebook",
    "messenger.com": "Messenger", "instagram.com": "Instagram",
    "x.com": "X", "twitter.com": "X", "t.co": "X",
    "linkedin.com": "LinkedIn", "lnkd.in": "LinkedIn",
    "reddit.com": "Reddit", "redd.it": "Reddit", "news.ycombinator.com": "Hacker News",
    "pinterest.com": "Pinterest", "pin.it": "Pinterest", "tiktok.com": "TikTok",
    "threads.net": "Threads", "threads.com": "Threads", "bsky.app": "Bluesky",
    "mastodon.social": "Mastodon", "mastodon.online": "Mastodon", "mstdn.social": "Mastodon",
    "fosstodon.org": "Mastodon", "hachyderm.io": "Mastodon", "infosec.exchange": "Mastodon",
    "mas.to": "Mastodon", "mastodon.world": "Mastodon", "techhub.social": "Mastodon",
    "tumblr.com": "Tumblr", "vk.com": "VKontakte", "quora.com": "Quora",
    "t.me": "Telegram", "web.telegram.org": "Telegram", "whatsapp.com": "WhatsApp",
    "wa.me": "WhatsApp", "discord.com": "Discord", "discordapp.com": "Discord",
    "slack.com": "Slack", "snapchat.com": "Snapchat", "weibo.com": "Weibo",
    "producthunt.com": "Product Hunt", "medium.com": "Medium", "lobste.rs": "Lobsters",
    # Video.
    "youtube.com": "YouTube", "youtu.be": "YouTube", "vimeo.com": "Vimeo",
    "twitch.tv": "Twitch", "dailymotion.com": "Dailymotion",
    # Email clients and newsletter platforms.
    "mail.google.com": "Gmail", "outlook.live.com": "Outlook", "outlook.office.com": "Outlook",
    "outlook.office365.com": "Outlook", "mail.yahoo.com": "Yahoo Mail",
    "mail.proton.me": "Proton Mail", "mail.protonmail.com": "Proton Mail",
    "mail.aol.com": "AOL Mail", "mail.yandex.ru": "Yandex Mail", "mail.zoho.com": "Zoho Mail",
    "fastmail.com": "Fastmail", "substack.com": "Substack", "list-manage.com": "Mailchimp",
    "mailchi.mp": "Mailchimp", "mailchimp.com": "Mailchimp", "beehiiv.com": "beehiiv",
    "buttondown.email": "Buttondown", "buttondown.com": "Buttondown",
    "sendgrid.net": "SendGrid",
    # Developer sites, reference, answer engines: plain referrals with a known name.
    "github.com": "GitHub", "gitlab.com": "GitLab", "stackoverflow.com": "Stack Overflow",
    "stackexchange.com": "Stack Exchange", "wikipedia.org": "Wikipedia",
    "chatgpt.com": "ChatGPT", "chat.openai.com": "ChatGPT", "perplexity.ai": "Perplexity",
    "claude.ai": "Claude", "copilot.microsoft.com": "Copilot",
}

# Brands with one site per country: `google.de`, `google.co.uk`, `yandex.com.tr`, ...
FAMILIES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?:^|\.){brand}\.(?:com|[a-z]{{2}}|com?\.[a-z]{{2}})$"), name)
    for brand, name in (("google", "Google"), ("yandex", "Yandex"),
                        ("pinterest", "Pinterest"), ("yahoo", "Yahoo"), ("bing", "Bing"))
)
# Self-hosted Mastodon servers are commonly called mastodon.<domain> or mstdn.<domain>.
FEDIVERSE = re.compile(r"^(?:mastodon|mstdn)\.[a-z0-9.-]+$")

# Android apps send `android-app://<package>` as the referrer.
ANDROID_APPS: dict[str, str] = {
    "com.google.android.googlequicksearchbox": "Google", "com.google.android.gm": "Gmail",
    "com.google.android.youtube": "YouTube", "com.twitter.android": "X",
    "com.facebook.katana": "Facebook", "com.instagram.android": "Instagram",
    "com.linkedin.android": "LinkedIn", "com.reddit.frontpage": "Reddit",
    "org.telegram.messenger": "Telegram", "com.slack": "Slack",
    "com.microsoft.office.outlook": "Outlook", "com.pinterest": "Pinterest",
}

CATEGORIES: dict[str, str] = {
    **dict.fromkeys(("Google", "Bing", "DuckDuckGo", "Ecosia", "Yahoo", "Yandex", "Baidu",
                     "Brave Search", "Qwant", "Startpage", "Kagi", "Naver", "Seznam", "Sogou",
                     "Ask", "AOL", "Mojeek", "You.com"), SEARCH),
    **dict.fromkeys(("Facebook", "Messenger", "Instagram", "X", "LinkedIn", "Reddit",
                     "Hacker News", "Pinterest", "TikTok", "Threads", "Bluesky", "Mastodon",
                     "Tumblr", "VKontakte", "Quora", "Telegram", "WhatsApp", "Discord",
                     "Slack", "Snapchat", "Weibo", "Product Hunt", "Medium", "Lobsters"),
                    SOCIAL),
    **dict.fromkeys(("YouTube", "Vimeo", "Twitch", "Dailymotion"), VIDEO),
    **dict.fromkeys(("Gmail", "Outlook", "Yahoo Mail", "Proton Mail", "AOL Mail",
                     "Yandex Mail", "Zoho Mail", "Fastmail", "Substack", "Mailchimp",
                     "beehiiv", "Buttondown", "SendGrid", "Newsletter"), EMAIL),
}

# utm_source spellings that are not a host or a source name.
UTM_ALIASES: dict[str, str] = {
    "fb": "Facebook", "ig": "Instagram", "twitter": "X", "tw": "X", "li": "LinkedIn",
    "yt": "YouTube", "hn": "Hacker News", "hackernews": "Hacker News",
    "ycombinator": "Hacker News", "ddg": "DuckDuckGo", "adwords": "Google",
    "googleads": "Google", "google_ads": "Google", "bluesky": "Bluesky",
    "newsletter": "Newsletter", "email": "Newsletter", "e-mail": "Newsletter",
    "mail": "Newsletter", "stackoverflow": "Stack Overflow",
    **{name.lower(): name for name in CATEGORIES},
    **{name.lower().replace(" ", ""): name for name in CATEGORIES},
    **{name.lower(): name for name in SOURCES.values()},
}
