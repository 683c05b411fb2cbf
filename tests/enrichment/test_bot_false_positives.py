"""Keep people: real browsers stay, also those whose agent carries a bot-like word.

Two public corpora of real browser user agents (fake-useragent's real-world list and
every browser fixture of Matomo device-detector) may lose at most 0.5 % each; our own
set - in-app browsers of social networks and chat apps, smart TVs and consoles, text
browsers used with screen readers - loses none.
"""

from __future__ import annotations

import pytest

from beacon_app.enrichment.bots import classify_user_agent
from bench import bot_corpora

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Mobile/15E148")
ANDROID_WV = ("Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) "
              "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 "
              "Mobile Safari/537.36")

IN_APP = {
    "facebook-ios": IPHONE + " [FBAN/FBIOS;FBAV/456.0.0.40.109;FBBV/567890123;FBDV/iPhone15,2;"
                             "FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
    "facebook-android": ANDROID_WV + " [FB_IAB/FB4A;FBAV/454.0.0.44.108;]",
    "instagram": IPHONE + " Instagram 320.0.2.31.107 (iPhone14,5; iOS 17_3_1; en_US; en; "
                          "scale=3.00; 1170x2532; 567312345)",
    "tiktok-ios": IPHONE + " musical_ly_34.1.0 JsSdk/2.0 NetType/WIFI Channel/App Store "
                           "ByteLocale/en Region/US ByteFullLocale/en WKWebView/1 "
                           "BytedanceWebview/d8a21c6",
    "tiktok-android": ANDROID_WV + " trill_330404 JsSdk/1.0 NetType/WIFI Channel/googleplay "
                                   "AppName/musical_ly app_version/33.4.4 ByteLocale/en "
                                   "BytedanceWebview/d8a21c6",
    "linkedin": IPHONE + " [LinkedInApp]/9.29.8172",
    "snapchat": IPHONE + " Snapchat/13.10.0.40 (like Safari/8617.2.4.10.8, panda)",
    "pinterest-ios": IPHONE + " [Pinterest/iOS]",
    "pinterest-android": ANDROID_WV + " [Pinterest/Android]",
    "twitter": IPHONE + " Twitter for iPhone/10.34",
    "line": IPHONE + " Safari Line/14.3.0",
    "wechat": IPHONE + " MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
    "kakaotalk": IPHONE + " KAKAOTALK 10.6.5",
    "telegram": ANDROID_WV + " Telegram-Android/10.9.1 (Google Pixel 8; Android 14; SDK 34; "
                             "HIGH)",
    "google-app": ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                   "(KHTML, like Gecko) GSA/309.0.616685607 Mobile/15E148 Safari/604.1"),
    "duckduckgo": ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                   "(KHTML, like Gecko) Version/17.4 Mobile/15E148 DuckDuckGo/7 "
                   "Safari/605.1.15"),
    "slack-desktop": ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                      "(KHTML, like Gecko) Slack/4.36.140 Chrome/120.0.6099.109 Electron/28.1.0 "
                      "Safari/537.36 Sonic Slack_SSB/4.36.140"),
    "discord-desktop": ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                        "like Gecko) discord/1.0.9035 Chrome/120.0.6099.291 Electron/28.2.10 "
                        "Safari/537.36"),
}
TV_AND_CONSOLES = {
    "samsung-tizen": ("Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.5) AppleWebKit/537.36 (KHTML, like "
                      "Gecko) 85.0.4183.93/6.5 TV Safari/537.36"),
    "lg-webos": ("Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/94.0.4606.128 Safari/537.36 WebAppManager"),
    "hbbtv-samsung": ("Mozilla/5.0 (Linux; Tizen 2.3) AppleWebKit/538.1 (KHTML, like Gecko)"
                      "Version/2.3 TV Safari/538.1 HbbTV/1.2.1 (+TVPLUS;Samsung;SmartTV2016;"
                      "T-HKMDEUC-1460.1;;)"),
    "hbbtv-vestel": ("Mozilla/5.0 (Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/76.0.3809.146 Safari/537.36 OPR/63.0.3368.71935 "
                     "OMI/4.21.0.273.DIA6.149 Model/Vestel-MB211 VSTVB MB100 FVC/4.0 "
                     "(OEM; MB211; ) HbbTV/1.5.1 (+DRM; OEM; MB211; 0.0.0; ; _TV_G31_2020;) "
                     "SmartTvA/3.0.0"),
    "fire-tv": ("Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633.3445N; wv) AppleWebKit/537.36 "
                "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36"),
    "sony-bravia": ("Mozilla/5.0 (Linux; Android 12; BRAVIA 4K VH2 Build/STT1.211025.001.Z4; wv)"
                    " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
                    "Chrome/114.0.5735.196 Mobile Safari/537.36"),
    "playstation-5": ("Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 "
                      "(KHTML, like Gecko) Version/13.0 Safari/605.1.15"),
    "xbox": ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 "
             "(KHTML, like Gecko) Chrome/48.0.2564.82 Safari/537.36 Edge/20.02"),
    "kindle": ("Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Silk/122.3.1 like Chrome/122.0.6261.105 Safari/537.36"),
}
# Blind and low-vision people often browse with a text browser and a screen reader;
# screen readers themselves (JAWS, NVDA, VoiceOver, TalkBack) keep the browser's agent.
ACCESSIBILITY = {
    "lynx": "Lynx/2.9.0dev.12 libwww-FM/2.14 SSL-MM/1.4.1 GNUTLS/3.7.8",
    "w3m": "w3m/0.5.3+git20230121",
    "links": "Links (2.29; Linux 6.1.0-18-amd64 x86_64; GNU C 12.2; text)",
    "elinks": "ELinks/0.16.1.1 (textmode; Linux 6.1.0-18-amd64 x86_64; 200x50-2)",
    "talkback-chrome": ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like"
                        " Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"),
}
OWN = {**IN_APP, **TV_AND_CONSOLES, **ACCESSIBILITY}


@pytest.mark.parametrize("ua", list(OWN.values()), ids=list(OWN))
def test_people_with_bot_like_words_are_kept(ua: str) -> None:
    assert classify_user_agent(ua) is None


@pytest.mark.parametrize("corpus", ["fake_useragent_browsers", "matomo_browser_fixtures"])
def test_public_browser_corpus_loses_at_most_half_a_percent(corpus: str) -> None:
    uas = getattr(bot_corpora, corpus)()
    assert len(uas) > 500
    dropped = [ua for ua in uas if classify_user_agent(ua) is not None]
    assert len(dropped) <= 0.005 * len(uas), dropped[:20]
