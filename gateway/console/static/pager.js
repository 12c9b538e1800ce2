// Keyset paging (AIP-158) for the console's lists: the API pages forward only, so the tokens
// of the pages seen let "previous" ask an older page again. `load` fetches the page that
// `token` names and calls `arrived` with the answer's next-page token. Each `loading` hands
// out a ticket: an answer that arrives after a newer request went out (the filters changed
// while a page was on its way) is stale and must not be shown, nor its token followed.
export function keysetPager(previous, next, load) {
  let tokens = [""];
  let page = 0;
  let nextToken = "";
  let serial = 0;
  const pager = {
    /** The page shown, from 0. */
    get page() {
      return page;
    },
    /** The token of the page to fetch ("" for the first). */
    get token() {
      return tokens[page];
    },
    loading() {
      previous.disabled = true;
      next.disabled = true;
      serial += 1;
      return serial;
    },
    /** Whether a newer request has gone out since the one of this ticket. */
    stale(ticket) {
      return ticket !== serial;
    },
    arrived(token) {
      nextToken = token || "";
      previous.disabled = page === 0;
      next.disabled = !nextToken;
    },
    /** Back to the first page (the filters changed). */
    restart() {
      tokens = [""];
      page = 0;
      load();
    },
  };
  previous.addEventListener("click", () => {
    if (page === 0) return;
    page -= 1;
    load();
  });
  next.addEventListener("click", () => {
    if (!nextToken) return;
    tokens[page + 1] = nextToken;
    page += 1;
    load();
  });
  return pager;
}
