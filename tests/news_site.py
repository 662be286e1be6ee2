"""A small news site on 127.0.0.1 for crawl tests: real HTTP, real misbehaviour.

`NewsSite` serves robots.txt (Disallow, Allow, Crawl-delay, Sitemap), a sitemap index
pointing to a gzip sitemap, an RSS feed, articles in Kazakh, Russian and English with
the usual boilerplate (navigation, footer, reader comments), and the pages a crawler
must survive: HTTP 500, a page that hangs, a redirect loop, a 50 MB streamed page, a
cp1251 page, a PDF, links to another host. It logs every request with a timestamp, so
tests check politeness from the server's side. `OffSite` is the other host.

Article text comes from the project's seed documents (../shared/seeds next to the repository).
"""
from __future__ import annotations

import gzip
import html
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER_AGENT_TOKEN = "qazflow"

KK_PARAGRAPHS = [
    "Жасанды интеллекттің қоғамға әсері ешқашан байқалмады. Жасанды интеллект көбінесе Интернеттен кейінгі "
    "өнеркәсіптік өзгерістердің жаңа толқыны деп аталады, бүкіл әлемдегі экономиканы, мемлекеттік қызметтерді және "
    "күнделікті өмірді өзгертеді.",
    "Еуразия қиылысында орналасқан Қазақстан өзінің алдына жасанды интеллектті (ЖИ) толық цифрлық қоғам құрудың "
    "негізгі құралы ретінде пайдалану мақсатын қойды.",
    "Осы тұрғыда бұл құжат Қазақстандағы ЖИ дамуының ағымдағы жай-күйіне жан-жақты, нақты деректерге бағдарланған "
    "шолу болып табылады, ол ЖИ мүмкіндіктерін кеңейтудегі жаһандық үрдістерге, енгізу шығындарын төмендетуге, "
    "енгізуді ұлғайтуға және басқаруға және жауапты пайдалануға өсіп келе жатқан назарға негізделген.",
    "Талдау Қазақстанның жасанды интеллектін дамытудың 2024-2029 жылдарға арналған ұлттық тұжырымдамасымен "
    "келісілген, онда деректерді басқару, инфрақұрылымды дамыту, адами капитал, тілдік технологияларды қоса "
    "алғанда, зерттеулер мен әзірлемелер және нормативтік-құқықтық база басым болып табылады.",
]
KK2_PARAGRAPHS = [
    "Мақсат Нұрәділұлы Калимолдаев, профессор, Ақпараттық және есептеу технологиялар институтының Бас "
    "директорының кеңесшісі, зертхана меңгерушісі, Қазақстан Республикасы Ұлттық ғылым академиясының құрметті "
    "академигі.",
    "Мадина Есімханқызы Мансурова, Жасанды интеллект және үлкен деректер кафедрасының меңгерушісі, Әл-Фараби "
    "атындағы Қазақ ұлттық университетінің профессоры.",
    "Түйін сөздер: жасанды интеллект, цифрлық қоғам, зерттеу, технология, инфрақұрылым. Мүдделер қақтығысы: "
    "авторлар мүдделер қақтығысының жоқтығын мәлімдейді.",
]
RU_PARAGRAPHS = [
    "Влияние искусственного интеллекта на общество еще никогда не было таким заметным. Искусственный интеллект, "
    "который часто называют новой волной промышленных преобразований, происходящих вслед за Интернетом, меняет "
    "экономику, общественные услуги и повседневную жизнь по всему миру.",
    "Расположенный на перекрестке Евразии, Казахстан поставил перед собой амбициозную цель – использовать "
    "искусственный интеллект (ИИ) в качестве основного средства создания полностью цифрового общества.",
    "Анализ согласован с Национальной концепцией развития искусственного интеллекта Казахстана на 2024-2029 годы, "
    "в которой приоритетными являются управление данными, развитие инфраструктуры, человеческий капитал, "
    "исследования и разработки, включая языковые технологии, и нормативно-правовая база.",
]
RU_CP1251_PARAGRAPHS = [
    "Калимолдаев Максат Нурадилович, почетный академик НАН РК, советник Генерального директора, заведующий "
    "лабораторией, Институт информационных и компьютерных технологий, Алматы, Казахстан.",
    "Мансурова Мадина Есимхановна, профессор, заведующая кафедрой искусственного интеллекта и больших данных, "
    "Казахский национальный университет имени аль-Фараби, Алматы, Казахстан.",
    "Ключевые слова: искусственный интеллект, цифровое общество, исследование, технологии, инфраструктура. "
    "Конфликт интересов: авторы заявляют об отсутствии конфликта интересов.",
]
EN_PARAGRAPHS = [
    "An MIT survey provides the first quantitative snapshot of AI infrastructure and adoption in Kazakhstan, "
    "Uzbekistan, and Kyrgyzstan, revealing rapid hardware expansion but persistent enterprise hesitancy.",
    "The study, conducted by MIT's Regional Entrepreneurship Acceleration Program (REAP), maps GPU clusters, local "
    "LLM fine-tuning activity, and enterprise deployment rates across the three countries.",
    "GPU cluster growth: 40 % year-over-year increase in on-premise and cloud-based GPU capacity, with Kazakhstan "
    "accounting for 68 % of the region's total.",
    "Data sovereignty laws: National regulations require in-country data storage, complicating cloud-based AI "
    "workflows. Talent pipelines: Universities produce about 1,200 AI/ML graduates annually, but 70 % emigrate "
    "within two years.",
]
EN_DEEP_PARAGRAPHS = [
    "Hybrid cloud: Firms combine on-premise GPU clusters with edge nodes to comply with data residency rules while "
    "maintaining performance across the region's growing AI deployments.",
    "Open-source tooling: Local developers rely on Ollama, vLLM, and Axolotl for fine-tuning, reducing dependency on "
    "proprietary APIs. Government incentives offer tax breaks for firms that train models on local datasets.",
]

# Boilerplate every page carries; extraction must leave all of it out.
NAV_TEXT = "Басты бет | Саясат | Экономика | Главная | Политика | Home | Politics"
FOOTER_TEXT = "© 2026 Qazaq Daily News. Барлық құқықтар қорғалған. All rights reserved."
COMMENT_TEXT = "Керемет мақала, рахмет! Great article, thanks for sharing this comment."
SIDEBAR_TEXT = "Most read stories this week"


class Article:
    def __init__(self, path: str, lang: str, title: str, paragraphs: list[str], published: str, author: str,
                 links: tuple[str, ...] = (), charset: str = "utf-8"):
        self.path, self.lang, self.title, self.paragraphs = path, lang, title, paragraphs
        self.published, self.author, self.links, self.charset = published, author, links, charset

    def html(self, site_url: str) -> str:
        body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in self.paragraphs)
        extra = "\n".join(f'      <li><a href="{html.escape(link)}">More: {html.escape(link)}</a></li>'
                          for link in self.links)
        meta_charset = "" if self.charset != "utf-8" else '<meta charset="utf-8">'
        return f"""<!DOCTYPE html>
<html lang="{self.lang}">
<head>
  {meta_charset}
  <title>{html.escape(self.title)} | Qazaq Daily News</title>
  <meta name="author" content="{html.escape(self.author)}">
  <meta property="og:site_name" content="Qazaq Daily News">
  <meta property="og:title" content="{html.escape(self.title)}">
  <meta property="article:published_time" content="{self.published}T09:30:00+05:00">
  <link rel="canonical" href="{site_url}{self.path}">
</head>
<body>
  <header class="site-header"><a href="/">Qazaq Daily News</a>
    <nav class="main-nav"><ul><li><a href="/">{NAV_TEXT}</a></li><li><a href="/section/tech.html">Tech</a></li></ul></nav>
  </header>
  <main>
    <article class="post">
      <h1 class="entry-title">{html.escape(self.title)}</h1>
      <div class="byline">By <span class="author">{html.escape(self.author)}</span>,
        <time datetime="{self.published}">{self.published}</time></div>
{body}
    </article>
    <aside class="sidebar"><h3>{SIDEBAR_TEXT}</h3><ul>
{extra}
    </ul></aside>
    <section id="comments" class="comments">
      <h3>Пікірлер / Comments</h3>
      <div class="comment"><p class="comment-author">reader42</p><p>{COMMENT_TEXT}</p></div>
    </section>
  </main>
  <footer class="site-footer"><p>{FOOTER_TEXT}</p><a href="/about.html">About</a></footer>
</body>
</html>
"""


ARTICLES = {
    a.path: a for a in [
        Article("/kk/ai-damuy.html", "kk", "Қазақстанда жасанды интеллекттің дамуы", KK_PARAGRAPHS, "2026-01-20",
                "Мақсат Калимолдаев"),
        Article("/kk/avtorlar.html", "kk", "Зерттеу авторлары туралы", KK2_PARAGRAPHS, "2026-01-21",
                "Мадина Мансурова"),
        Article("/ru/razvitie-ii.html", "ru", "Развитие искусственного интеллекта в Казахстане", RU_PARAGRAPHS,
                "2026-01-22", "Мадина Мансурова"),
        Article("/ru/cp1251.html", "ru", "Об авторах исследования", RU_CP1251_PARAGRAPHS, "2026-01-23",
                "Редакция", charset="windows-1251"),
        Article("/en/mit-survey.html", "en", "MIT survey maps AI adoption in Central Asia", EN_PARAGRAPHS,
                "2026-01-24", "Staff Reporter"),
        Article("/private/open.html", "en", "An open page inside a private section", EN_DEEP_PARAGRAPHS[:1] * 3,
                "2026-01-25", "Staff Reporter"),
        Article("/en/deep-article.html", "en", "Workarounds and local solutions", EN_DEEP_PARAGRAPHS, "2026-01-26",
                "Staff Reporter", links=("/en/too-deep.html",)),
        Article("/en/too-deep.html", "en", "Too deep to be crawled", EN_DEEP_PARAGRAPHS[1:] * 3, "2026-01-27",
                "Staff Reporter"),
    ]
}
# Extracted documents the crawl must produce (path → article).
EXPECTED_DOCUMENTS = ("/kk/ai-damuy.html", "/kk/avtorlar.html", "/ru/razvitie-ii.html", "/ru/cp1251.html",
                      "/en/mit-survey.html", "/private/open.html", "/en/deep-article.html")
# Pages found by following links that are lists, not articles: extracted (their little
# text is for the quality filters to judge) but not checked as articles.
HUB_PAGES = ("/section/tech.html",)
# Pages that fail, and the words their error detail must contain.
EXPECTED_ERRORS = {
    "/private/secret.html": "robots",
    "/error500.html": "HTTP 500",
    "/slow.html": "timeout",
    "/loop/a.html": "redirect loop",
    "/big.html": "body larger than",
    "/docs/download": "content type application/pdf",  # a PDF whose URL does not say so
    "/about.html": "HTTP 404",  # linked from every article's footer, but missing
}
NEVER_FETCHED = ("/private/secret.html", "/en/too-deep.html", "/docs/report.pdf")  # the PDF: by its name

# /bad-links.html (not linked from anywhere): hrefs seen on real pages that no URL parser
# may choke on, with two good links among them; the bad ones counted by reason.
BAD_LINKS_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><base href="http://[">
<title>Links</title><link rel="canonical" href="http://[ccpa-preferences]"></head><body>
<a href="http://[ccpa-preferences]">Do not sell my personal information</a>
<a href="http://x:99999/">port out of range</a><a href="http://x:8o/">port not a number</a>
<a href="javascript:void(0)">script</a><a href="mailto:editor@example.kz">mail</a>
<a href="/kk/\x07ai-damuy.html">control character in the path</a><a href="http://a\x01b.kz/">in the host</a>
<a href="http://exa mple.kz/">space in the host</a><a href="http://[::1">unclosed bracket</a>
<a href="/kk/ai-damuy.html">good</a><a href="  /ru/razvitie-ii.html\n">good, with whitespace</a>
</body></html>"""
BAD_LINKS = {"malformed": 3, "port": 2, "scheme": 2, "control_char": 2, "host": 1}
BAD_LINKS_GOOD = ("/kk/ai-damuy.html", "/ru/razvitie-ii.html")


class _Server:
    """A threaded HTTP server on 127.0.0.1 that logs every request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.sent: dict[str, int] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the http.server API
                record = {"t": time.monotonic(), "path": self.path, "user_agent": self.headers.get("User-Agent", ""),
                          "end": None}
                with server._lock:
                    server.requests.append(record)
                try:
                    server.handle(self)
                    self.wfile.flush()
                    record["end"] = time.monotonic()  # the whole response handed to the socket
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: that is what /big.html is for

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self) -> list[str]:
        with self._lock:
            return [r["path"] for r in self.requests]

    @staticmethod
    def send(handler, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", headers=()):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(body)

    def handle(self, handler):
        raise NotImplementedError


class OffSite(_Server):
    """Another host: the crawl must never request anything from it."""

    def handle(self, handler):
        self.send(handler, 200, b"<html><body><p>Off-site content that must never be fetched.</p></body></html>")


class NewsSite(_Server):
    def __init__(self, offsite_url: str, crawl_delay: float = 0.2, hang_seconds: float = 4.0,
                 big_bytes: int = 50 * 1024 * 1024):
        super().__init__()
        self.offsite_url = offsite_url
        self.crawl_delay = crawl_delay
        self.hang_seconds = hang_seconds
        self.big_bytes = big_bytes

    # ---- documents ---------------------------------------------------------------------
    def robots_txt(self) -> str:
        return f"""# robots.txt of Qazaq Daily News
User-agent: *
Disallow: /

User-agent: {USER_AGENT_TOKEN}
Crawl-delay: {self.crawl_delay}
Disallow: /private/
Allow: /private/open.html

Sitemap: {self.url}/sitemap_index.xml
"""

    def sitemap_index(self) -> str:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{self.url}/sitemaps/news.xml.gz</loc><lastmod>2026-01-27</lastmod></sitemap>
</sitemapindex>
"""

    def sitemap_urls(self) -> list[tuple[str, str]]:
        return [
            ("/kk/ai-damuy.html", "2026-01-20"), ("/ru/razvitie-ii.html", "2026-01-22"),
            ("/ru/cp1251.html", "2026-01-23"), ("/en/mit-survey.html?utm_source=sitemap", "2026-01-24"),
            ("/private/secret.html", "2026-01-25"), ("/private/open.html", "2026-01-25"),
            ("/error500.html", "2026-01-19"), ("/slow.html", "2026-01-19"), ("/loop/a.html", "2026-01-19"),
            ("/big.html", "2026-01-19"), ("/docs/report.pdf", "2026-01-18"), ("/docs/download?id=7", "2026-01-18"),
            (f"{self.offsite_url}/stolen-from-sitemap.html", "2026-01-26"),
        ]

    def sitemap(self) -> bytes:
        urls = "\n".join(f"  <url><loc>{html.escape(u if u.startswith('http') else self.url + u)}</loc>"
                         f"<lastmod>{d}</lastmod></url>" for u, d in self.sitemap_urls())
        xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls}
</urlset>
"""
        return gzip.compress(xml.encode("utf-8"))

    def rss(self) -> str:
        items = [("/kk/avtorlar.html", "Зерттеу авторлары туралы", "Wed, 21 Jan 2026 09:30:00 +0500"),
                 ("/en/mit-survey.html?utm_campaign=rss#top", "MIT survey", "Sat, 24 Jan 2026 09:30:00 +0500"),
                 (f"{self.offsite_url}/stolen-from-feed.html", "Elsewhere", "Sat, 24 Jan 2026 10:00:00 +0500")]
        body = "\n".join(f"    <item><title>{html.escape(t)}</title><link>{html.escape(u if u.startswith('http') else self.url + u)}</link>"
                         f"<pubDate>{d}</pubDate></item>" for u, t, d in items)
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Qazaq Daily News</title>
    <link>{self.url}/</link>
    <description>Latest news</description>
{body}
  </channel>
</rss>
"""

    def home(self) -> str:
        links = ["/kk/ai-damuy.html", "/kk/ai-damuy.html?utm_source=telegram#comments", "/ru/razvitie-ii.html",
                 "/section/tech.html", "/private/secret.html", f"{self.offsite_url}/stolen.html",
                 "mailto:editor@example.kz", "javascript:void(0)"]
        items = "\n".join(f'<li><a href="{html.escape(u)}">{html.escape(u)}</a></li>' for u in links)
        return f"""<!DOCTYPE html><html lang="kk"><head><meta charset="utf-8"><title>Qazaq Daily News</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml"></head>
<body><nav>{NAV_TEXT}</nav><h1>Qazaq Daily News</h1><ul>{items}</ul><footer>{FOOTER_TEXT}</footer></body></html>"""

    def section(self) -> str:
        return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Tech</title></head>
<body><nav>{NAV_TEXT}</nav><h1>Tech</h1><ul><li><a href="/en/deep-article.html">Workarounds</a></li></ul>
<footer>{FOOTER_TEXT}</footer></body></html>"""

    # ---- routing -----------------------------------------------------------------------
    def handle(self, h):
        path = h.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/robots.txt":
            self.send(h, 200, self.robots_txt().encode(), "text/plain; charset=utf-8")
        elif path == "/":
            self.send(h, 200, self.home().encode())
        elif path == "/sitemap_index.xml":
            self.send(h, 200, self.sitemap_index().encode(), "application/xml")
        elif path == "/sitemaps/news.xml.gz":
            self.send(h, 200, self.sitemap(), "application/gzip")
        elif path == "/rss.xml":
            self.send(h, 200, self.rss().encode(), "application/rss+xml; charset=utf-8")
        elif path == "/section/tech.html":
            self.send(h, 200, self.section().encode())
        elif path in ARTICLES:
            article = ARTICLES[path]
            self.send(h, 200, article.html(self.url).encode(article.charset, errors="xmlcharrefreplace"),
                      f"text/html; charset={article.charset}")
        elif path == "/private/secret.html":
            self.send(h, 200, b"<html><body><p>Secret: robots.txt forbids this page.</p></body></html>")
        elif path == "/bad-links.html":
            self.send(h, 200, BAD_LINKS_PAGE.encode())
        elif path == "/error500.html":
            self.send(h, 500, b"<html><body>Internal Server Error</body></html>")
        elif path == "/slow.html":
            self.stopping.wait(self.hang_seconds)  # hangs before answering (longer than the client's timeout)
            self.send(h, 200, b"<html><body><p>Too late.</p></body></html>")
        elif path == "/loop/a.html":
            self.send(h, 302, b"", headers=[("Location", "/loop/b.html")])
        elif path == "/loop/b.html":
            self.send(h, 302, b"", headers=[("Location", f"{self.url}/loop/a.html")])
        elif path == "/big.html":
            self._stream_big(h)
        elif path in ("/docs/report.pdf", "/docs/download"):
            self.send(h, 200, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
                      "application/pdf")
        # Not linked from anywhere: for fetcher tests that ask for them directly.
        elif path == "/trickle.html":  # a byte every 0.2 s: never silent long enough for a read timeout
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "1000")
            h.end_headers()
            for _ in range(1000):
                if self.stopping.wait(0.2):
                    break
                h.wfile.write(b"x")
                h.wfile.flush()
        elif path == "/trickle-short.html":  # 0.4 s to send, complete: a slow but finished response
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "4")
            h.end_headers()
            for _ in range(4):
                self.stopping.wait(0.1)
                h.wfile.write(b"x")
                h.wfile.flush()
        elif path == "/busy.html":  # 429 with Retry-After the first time, then the page
            with self._lock:
                first = self.sent.setdefault("/busy.html", 0) == 0
                self.sent["/busy.html"] += 1
            if first:
                self.send(h, 429, b"slow down", "text/plain", headers=[("Retry-After", "1")])
            else:
                self.send(h, 200, ARTICLES["/en/mit-survey.html"].html(self.url).encode())
        elif path == "/gzipped.html":  # Content-Encoding: gzip, as most real servers send
            body = gzip.compress(ARTICLES["/kk/ai-damuy.html"].html(self.url).encode())
            self.send(h, 200, body, headers=[("Content-Encoding", "gzip")])
        elif path == "/moved-away.html":  # a redirect to another host
            self.send(h, 301, b"", headers=[("Location", f"{self.offsite_url}/elsewhere.html")])
        elif path == "/moved.html":  # a redirect within the site, with tracking junk
            self.send(h, 301, b"", headers=[("Location", "/en/mit-survey.html?utm_medium=redirect")])
        elif path.startswith("/chain/"):  # /chain/N redirects to /chain/N+1 forever
            n = int(path.rsplit("/", 1)[1] or 0)
            self.send(h, 302, b"", headers=[("Location", f"/chain/{n + 1}")])
        else:
            self.send(h, 404, b"<html><body>Not found</body></html>")

    def _stream_big(self, h):
        """50 MB of HTML with no Content-Length: only the client's byte limit stops it."""
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Connection", "close")
        h.end_headers()
        chunk = (b"<p>" + b"x" * 65530 + b"</p>")[:65536]
        sent = 0
        try:
            h.wfile.write(b"<html><body>")
            while sent < self.big_bytes and not self.stopping.is_set():
                h.wfile.write(chunk)
                sent += len(chunk)
        finally:
            with self._lock:
                self.sent["/big.html"] = sent
            h.close_connection = True


def gaps(requests: list[dict]) -> list[float]:
    """Seconds between consecutive request arrivals, in arrival order."""
    times = sorted(r["t"] for r in requests)
    return [b - a for a, b in zip(times, times[1:])]


# The server notes a response's end after its last write returns; on a loaded machine its
# thread may reach that line milliseconds after the client already has the bytes, so a pause
# measured here can fall short of the one the client kept by that much. Spacing request
# starts instead of ends would fall short by a whole response time (the trickling page).
SERVER_LAG = 0.01


def idle_gaps(requests: list[dict]) -> list[float]:
    """For each request, the seconds from the end of the response before it to its own
    arrival: the rest the server got between two requests (negative if they overlapped).

    Responses the client abandoned (a timeout, a body over the limit) have no useful
    end on the server's side, which may go on writing into a closed socket for a while;
    they are left out as the "before", their arrival still counts."""
    ordered = sorted(requests, key=lambda r: r["t"])
    out = []
    for before, request in zip(ordered, ordered[1:]):
        if before["end"] is not None and before["path"].split("?")[0] not in ABANDONED:
            out.append(request["t"] - before["end"])
    return out


# Responses test clients give up on: hanging, trickling, or over the byte limit.
ABANDONED = frozenset({"/slow.html", "/trickle.html", "/big.html"})
