(query) => {
  if (!query || !query.startsWith("?")) return query;  // no link: the reason why, as it is
  const url = window.location.origin + window.location.pathname + query;
  try { navigator.clipboard.writeText(url).catch(() => {}); } catch (e) {}  // needs https or localhost
  return url;
}
