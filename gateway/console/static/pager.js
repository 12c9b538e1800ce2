// Keyset paging (AIP-158) for the console's lists: the API pages forward only, so the tokens
// of the pages seen let "previous" ask an older page again. `load` fetches the page that
// `token` names and calls `arrived` with the answer's next-page token.
export function keysetPager(previous, next, load) {
  let tokens = [""];
  let page = 0;
  let nextToken = "";
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
