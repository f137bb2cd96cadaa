/**
 * The Jobs list the user last looked at (its query string), so a job page's
 * "Jobs" link goes back to that list with its filters instead of a bare one.
 * Per tab (sessionStorage): another tab's search is not this one's.
 */
const KEY = 'batchiepatchie.lastJobsList';

export function rememberJobsList(search: string): void {
  try {
    sessionStorage.setItem(KEY, search);
  } catch {
    /* storage disabled: the link goes to the bare list */
  }
}

/** "/?q=..." for the remembered list, "/" when there is none. */
export function lastJobsListPath(): string {
  let search = '';
  try {
    search = sessionStorage.getItem(KEY) ?? '';
  } catch {
    /* storage disabled */
  }
  return search ? `/?${search}` : '/';
}
