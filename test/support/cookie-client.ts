/**
 * An HTTP client that keeps cookies like a browser, for journeys across real servers (the app and
 * an OpenID provider, both on 127.0.0.1). Redirects are not followed by itself: the test sees each.
 */

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

export class CookieClient {
  private cookies: StoredCookie[] = [];

  /** The cookies this client would send to `url`, as `name=value` pairs. */
  cookiesFor(url: string): string[] {
    const { hostname, pathname } = new URL(url);
    return this.cookies
      .filter(
        (c) =>
          c.host === hostname && (pathname === c.path || pathname.startsWith(c.path.replace(/\/?$/, '/'))),
      )
      .map((c) => `${c.name}=${c.value}`);
  }

  private keep(url: string, response: Response): void {
    const { hostname, pathname } = new URL(url);
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      let path = pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', setting = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = setting;
        if (key.toLowerCase() === 'max-age' && Number(setting) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(setting) <= Date.now()) expired = true;
      }
      // Cookies are per host, not per port, as in a browser.
      this.cookies = this.cookies.filter((c) => !(c.host === hostname && c.name === name && c.path === path));
      if (!expired) this.cookies.push({ name, value, host: hostname, path });
    }
  }

  async get(url: string): Promise<Response> {
    const cookies = this.cookiesFor(url);
    const response = await fetch(url, {
      redirect: 'manual',
      headers: cookies.length ? { cookie: cookies.join('; ') } : {},
    });
    this.keep(url, response);
    return response;
  }

  async postForm(url: string, fields: Record<string, string>): Promise<Response> {
    const cookies = this.cookiesFor(url);
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(cookies.length ? { cookie: cookies.join('; ') } : {}),
      },
      body: new URLSearchParams(fields).toString(),
    });
    this.keep(url, response);
    return response;
  }

  /**
   * Signs in with a password through the app at `baseUrl` as a person would: the sign-in form
   * (its CSRF token), then its POST. Returns the POST's answer (302 when it worked).
   */
  async signIn(baseUrl: string, email: string, password: string): Promise<Response> {
    const form = await this.get(`${baseUrl}/sign-in`);
    return this.postForm(`${baseUrl}/sign-in`, { _csrf: csrfToken(await form.text()), email, password });
  }
}

/** The CSRF token of the (first) form in a page. */
export function csrfToken(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`No CSRF token in the page:\n${html.slice(0, 500)}`);
  return token;
}

/** Where a redirect points, as an absolute address. */
export function redirectTarget(from: string, response: Response): string | undefined {
  if (response.status < 300 || response.status > 399) return undefined;
  const location = response.headers.get('location');
  return location ? new URL(location, from).href : undefined;
}
