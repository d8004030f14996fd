# Copyright 2026 The nova-ha-ext Authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""The one place for URLs that may hold secrets, and for quoting bad values.

* :func:`redact` masks the password (and secret query values) of a URL, or
  of a comma-separated list of them. It never fails: whatever it cannot
  parse, it masks more rather than less. Apply it where a URL is stored for
  messages, so that nothing printed later can leak.
* :func:`secrets` and :func:`scrub` remove a URL's secrets from text
  written by others (a driver's exception, say).
* :func:`pool_urls` is the one check of a XenServer pool URL setting
  (``[xenapi] connection_url`` and the aggregates' ``xenapi_pool_url``).
* :func:`excerpt` quotes at most a bounded part of a value in a message.

A password with an unencoded ``/``, ``?`` or ``#`` (common in base64
secrets) ends the URL's authority early for ``urllib.parse``, which then
sees no password at all; every function here treats the text up to the
last ``@`` after the scheme as the user information instead.
"""

import re
import urllib.parse

MASK = '***'

#: Longest part of a bad value a message quotes.
EXCERPT_CHARS = 100

_PREFIX = re.compile(r'([A-Za-z][A-Za-z0-9+.-]*://)(.*)\Z', re.DOTALL)

# A comma followed by another URL's scheme separates two URLs of a list.
_LIST_SEPARATOR = re.compile(r',(?=\s*[A-Za-z][A-Za-z0-9+.-]*://)')

_SECRET_WORDS = ('password', 'passwd', 'secret', 'token')

# What RFC 3986 forbids in user information, unless percent-encoded.
_AUTHORITY_ENDS = '/?#'


class BadURL(ValueError):
    """A URL setting that cannot work; the message holds no secret."""


def excerpt(value, limit=EXCERPT_CHARS, quote=True):
    """``value`` for a message, cut to ``limit`` characters.

    :param quote: quote it (``repr``); else give the text as it is.
    """
    text = value if isinstance(value, str) else repr(value)
    shown = repr(text[:limit]) if quote else text[:limit]
    if len(text) <= limit:
        return shown
    return '%s... (%d characters in all)' % (shown, len(text))


def _split(url):
    """``(prefix, userinfo, rest)`` of one URL; ``userinfo`` None if none.

    ``prefix`` is ``scheme://`` (empty for text without one) and ``rest``
    what follows the user information: host, port, path, query.
    """
    match = _PREFIX.match(url)
    prefix, tail = match.groups() if match else ('', url)
    if '@' not in tail:
        return prefix, None, tail
    userinfo, _at, rest = tail.rpartition('@')
    authority_end = min([tail.find(c) for c in _AUTHORITY_ENDS
                         if c in tail] or [len(tail)])
    if '@' in tail[:authority_end]:
        # The usual case: the user information ends at the authority's
        # last '@'.
        userinfo, _at, host = tail[:authority_end].rpartition('@')
        rest = host + tail[authority_end:]
    return prefix, userinfo, rest


def _is_secret(key):
    return any(word in key.lower() for word in _SECRET_WORDS)


def _redact_query(rest):
    if '?' not in rest:
        return rest
    before, _q, query = rest.partition('?')
    query, hash_, fragment = query.partition('#')
    pairs = []
    for pair in query.split('&'):
        key, eq, _value = pair.partition('=')
        pairs.append('%s=%s' % (key, MASK) if eq and _is_secret(
            urllib.parse.unquote(key)) else pair)
    return '%s?%s%s%s' % (before, '&'.join(pairs), hash_, fragment)


def _redact_one(url):
    prefix, userinfo, rest = _split(url)
    if userinfo is not None:
        user, colon, _password = userinfo.partition(':')
        if colon and not any(c in user for c in _AUTHORITY_ENDS):
            userinfo = '%s:%s' % (user, MASK)
        else:
            # No ':' (a token as user name) or a user name that cannot
            # be told apart from the password: mask it all.
            userinfo = MASK
        rest = '%s@%s' % (userinfo, rest)
    return prefix + _redact_query(rest)


def redact(url):
    """``url`` with its password and secret query values masked.

    ``redis://user:pw@host:6379?sentinel_password=x`` becomes
    ``redis://user:***@host:6379?sentinel_password=***``; a comma-separated
    list of URLs is redacted URL by URL. Never raises.
    """
    if not url:
        return url
    url = str(url)
    return ','.join(_redact_one(one) for one in _LIST_SEPARATOR.split(url))


def secrets(url):
    """The secret strings of ``url``: its password, secret query values."""
    if not url:
        return ()
    found = []
    for one in _LIST_SEPARATOR.split(str(url)):
        _prefix, userinfo, rest = _split(one)
        if userinfo:
            user, colon, password = userinfo.partition(':')
            found.append(password if colon else user)
        query = rest.partition('?')[2].partition('#')[0]
        for pair in query.split('&'):
            key, eq, value = pair.partition('=')
            if eq and value and _is_secret(urllib.parse.unquote(key)):
                found.append(value)
    return tuple(s for s in found if s)


def scrub(text, url):
    """``text`` (or an exception's message) without ``url``'s secrets."""
    if isinstance(text, BaseException):
        text = str(text) or type(text).__name__
    text = str(text)
    for secret in sorted(secrets(url), key=len, reverse=True):
        for form in {secret, urllib.parse.unquote(secret),
                     urllib.parse.quote(secret, safe='')}:
            text = text.replace(form, MASK)
    return text


def password_needs_encoding(url):
    """Whether ``url``'s user information holds an unencoded ``/?#``.

    ``urllib.parse`` and every library built on it then read part of the
    password as the host, port or path of the URL.
    """
    _prefix, userinfo, _rest = _split(str(url or ''))
    return bool(userinfo) and any(c in userinfo for c in _AUTHORITY_ENDS)


def pool_urls(setting, allow_plain_http=False):
    """The member URLs of a XenServer pool URL setting, checked.

    :param setting: ``https://host[:port]``, or several such URLs of the
        pool's members separated by commas.
    :param allow_plain_http: accept ``http://`` URLs, over which the XenAPI
        password travels in clear.
    :returns: the URLs, a tuple of at least one.
    :raises BadURL: saying what is wrong and what to write instead; the
        message quotes the setting redacted, and at most
        :data:`EXCERPT_CHARS` of it.
    """
    shown = excerpt(redact(setting or ''))
    found = tuple(u.strip() for u in (setting or '').split(',')
                  if u.strip())
    if not found:
        raise BadURL("no URL given; expected https://host[:port] of a pool "
                     "member")
    schemes = set()
    for url in found:
        one = excerpt(redact(url))
        if _split(url)[1] is not None:
            raise BadURL(
                "%s holds a user name or password; remove it: pools are "
                "logged in to with [xenapi] connection_username and "
                "connection_password, and a URL is shown to whoever can "
                "read it" % one)
        try:
            parts = urllib.parse.urlsplit(url)
            hostname = parts.hostname
        except ValueError:
            hostname = None
        if not hostname or parts.scheme not in ('http', 'https'):
            raise BadURL("%s is not a XenAPI URL; expected "
                         "https://host[:port]" % one)
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise BadURL("%s has an invalid port; expected a number from 1 "
                         "to 65535" % one)
        if parts.scheme == 'http' and not allow_plain_http:
            raise BadURL(
                "%s is plain http, over which the XenAPI password would "
                "travel in clear; use https, or set [xenapi] "
                "allow_plain_http = True where that is acceptable" % one)
        schemes.add(parts.scheme)
    if len(schemes) > 1:
        raise BadURL("%s mixes http and https URLs; use one scheme for the "
                     "pool" % shown)
    return found
