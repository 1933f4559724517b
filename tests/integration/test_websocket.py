"""OpenMetadata's push feed (socket.io at /api/v1/push/feed) through the module: long
polling, then the websocket upgrade, proxied by mod_proxy_http (`upgrade=websocket`, httpd
2.4.47 and later; no mod_proxy_wstunnel), with the session checked on the upgrade request."""

import env as E
import wsclient

FEED = "/api/v1/push/feed/?EIO=4&transport=websocket"


def om_httpd_config(om, provider):
    # upgrade=websocket on the one ProxyPass to OpenMetadata, as conf/openmetadata.conf has
    # it: a second ProxyPass for the feed alone would share the first one's worker and
    # httpd would ignore its parameters (AH01146). Only a request asking to upgrade does.
    return {"location": {"ProxyPass": f"http://{E.HOST}:{om.port}/ upgrade=websocket"}}


def cookie_header(browser):
    return "; ".join(f"{c.name}={c.value}" for c in browser.s.cookies)


def test_websocket_with_session_is_upgraded_and_echoes(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    om_browser.set_cookie("io", "socketio-sid")
    ws = wsclient.open_socket(E.HOST, om_httpd.port, FEED,
                              {"Cookie": cookie_header(om_browser)})
    try:
        assert ws.status == 101, (ws.status, ws.headers, ws.body[:300])
        ws.send_text('40{"userId":"alice"}')
        assert ws.recv_frame() == (0x1, b'40{"userId":"alice"}')
        ws.send_text("2")
        assert ws.recv_frame() == (0x1, b"2")
    finally:
        ws.close()
    upgrades = openmetadata.requests_seen(websocket=True)
    assert len(upgrades) == 1, upgrades
    seen = upgrades[0]
    assert seen["verified"] and seen["user"] == "alice", seen
    assert seen["headers"].get("upgrade", "").lower() == "websocket", seen["headers"]
    assert seen["headers"].get("x-onelogin-user") == "alice@example.com", seen["headers"]
    cookie = seen["headers"].get("cookie", "")
    assert "io=socketio-sid" in cookie and "olo_" not in cookie, cookie


def test_websocket_without_session_gets_401(om_httpd, openmetadata):
    ws = wsclient.open_socket(E.HOST, om_httpd.port, FEED)
    try:
        assert ws.status == 401, (ws.status, ws.headers, ws.body[:300])
        assert ws.headers.get("www-authenticate", "").startswith("Bearer"), ws.headers
        assert "location" not in ws.headers, ws.headers
    finally:
        ws.close()
    assert openmetadata.requests_seen() == []


def test_websocket_with_a_tampered_session_gets_401(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    value = om_browser.cookie("olo_session")
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    ws = wsclient.open_socket(E.HOST, om_httpd.port, FEED, {"Cookie": f"olo_session={tampered}"})
    try:
        assert ws.status == 401, (ws.status, ws.headers, ws.body[:300])
    finally:
        ws.close()
    assert openmetadata.requests_seen(websocket=True) == []


def test_socketio_long_polling_goes_through_with_a_session(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    r = om_browser.get("/api/v1/push/feed/?EIO=4&transport=polling", accept="*/*")
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.text.startswith('0{"sid":'), r.text[:100]


def test_socketio_long_polling_without_session_gets_401(om_httpd, om_browser, openmetadata):
    r = om_browser.get("/api/v1/push/feed/?EIO=4&transport=polling", accept="*/*")
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert openmetadata.requests_seen() == []
