// The police.uk import's page, enhanced: asks how far the import has got every second and updates
// the status (an aria-live region), the progress bar and the rows, until the import ends; then
// reloads the page for its result. Without this script the "Check progress" button does the same.
const box = document.querySelector('[data-testid="police-import"]');
const status = document.getElementById('police-import-status');
const bar = document.getElementById('police-import-progress');
const rows = box?.querySelector('.app-police-import__rows .govuk-summary-list__value');

async function poll() {
  let answer;
  try {
    const response = await fetch(box.dataset.json, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(String(response.status));
    answer = await response.json();
  } catch {
    setTimeout(poll, 3000);
    return;
  }
  if (answer.state !== 'running') {
    window.location.reload();
    return;
  }
  if (status && status.textContent !== answer.status) status.textContent = answer.status;
  if (bar) {
    bar.value = answer.percent;
    bar.textContent = `${answer.percent}%`;
  }
  if (rows) rows.textContent = answer.rows.toLocaleString('en-GB');
  setTimeout(poll, 1000);
}

if (box && box.dataset.state === 'running' && box.dataset.json) setTimeout(poll, 1000);
