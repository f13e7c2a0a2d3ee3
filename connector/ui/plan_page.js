/* The plan page's script (connector/ui/plan_html.py): filter by action, search, sort and
   page every table, drawn from the page's JSON. Data only ever becomes text (textContent,
   text nodes): no markup, attribute, handler or URL is made from it. */
(() => {
  'use strict';
  const dataNode = document.getElementById('plan-data');
  if (!dataNode) return;
  const model = JSON.parse(dataNode.textContent);
  const PRINT_MAX = 5000; // rows per table drawn for printing
  const numbers = new Intl.NumberFormat('en-GB');
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  const state = { query: '', pageRows: model.pageRows, hidden: new Set(), printing: false };

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  // As Python's format(value, 'g') for the scores (0-100, a few decimals).
  const shortNumber = (value) => String(Number(value.toPrecision(6)));

  const cellNode = (kind, value, first) => {
    if (first) {
      const th = el('th', 'num', String(value));
      th.scope = 'row';
      return th;
    }
    if (kind === 'num') return el('td', 'num', value === null ? '' : shortNumber(value));
    const td = el('td');
    if (kind === 'list') {
      if (value.length) {
        const list = el('ul', 'lines');
        for (const line of value) list.appendChild(el('li', '', line));
        td.appendChild(list);
      }
    } else if (kind === 'fields') {
      const list = el('ul', 'fields');
      for (const [label, text, mark] of value) {
        const item = el('li', mark ? 'chg' : '');
        item.append(el('span', 'mark', mark || ' '), ' ', el('span', 'lbl', label + ':'), ' ');
        item.appendChild(text ? document.createTextNode(text) : el('span', 'muted', '(empty)'));
        list.appendChild(item);
      }
      td.appendChild(list);
    } else {
      td.textContent = value || '';
    }
    return td;
  };

  const cellText = (kind, value) => {
    if (value === null || value === undefined) return '';
    if (kind === 'list') return value.join('\n');
    if (kind === 'fields') return value.map((f) => f[0] + ': ' + f[1]).join('\n');
    return String(value);
  };

  const makeTable = (key, title, mark, columns, rows, action) => {
    const t = {
      key, title, mark, columns, rows, action,
      section: document.getElementById('s-' + key),
      table: document.getElementById('t-' + key),
      body: document.getElementById('b-' + key),
      order: [], page: 0, sort: -1, dir: 1, texts: null, keys: [],
      // The warnings table's rows belong to the action their second cell names.
      rowAction: action ? null : rows.map((row) => String(row[1]).split(' ').pop()),
    };
    if (!t.section || !t.table || !t.body) return null;
    t.summary = t.section.querySelector('summary');
    const heads = t.table.tHead.rows[0].cells;
    columns.forEach((column, i) => {
      const th = heads[i + 1];
      const button = el('button', 'sort', column.label);
      button.type = 'button';
      button.addEventListener('click', () => sortBy(t, i));
      th.textContent = '';
      th.appendChild(button);
      th.setAttribute('aria-sort', 'none');
    });
    const pager = el('nav', 'pager');
    pager.setAttribute('aria-label', 'Pages of ' + title);
    const button = (label, go) => {
      const b = el('button', '', label);
      b.type = 'button';
      b.setAttribute('aria-label', label + ' page of ' + title);
      b.addEventListener('click', () => { t.page = go(); draw(t); });
      pager.appendChild(b);
      return b;
    };
    t.first = button('First', () => 0);
    t.previous = button('Previous', () => Math.max(0, t.page - 1));
    t.where = el('span', 'muted');
    pager.appendChild(t.where);
    t.next = button('Next', () => Math.min(lastPage(t), t.page + 1));
    t.last = button('Last', () => lastPage(t));
    t.pager = pager;
    t.table.parentNode.after(pager);
    return t;
  };

  const pageSize = () => (state.printing ? PRINT_MAX : state.pageRows);
  const lastPage = (t) => Math.max(0, Math.ceil(t.order.length / pageSize()) - 1);

  const rowTexts = (t) => {
    if (!t.texts) {
      t.texts = t.rows.map((row) =>
        row.map((value, i) => cellText(t.columns[i].kind, value)).join('\n').toLowerCase());
    }
    return t.texts;
  };

  const sortKeys = (t, column) => {
    if (!t.keys[column]) {
      const kind = t.columns[column].kind;
      t.keys[column] = t.rows.map((row) =>
        kind === 'num' ? row[column] : cellText(kind, row[column]));
    }
    return t.keys[column];
  };

  const compare = (kind, a, b) => {
    if (kind !== 'num') return collator.compare(a, b);
    if (a === b) return 0;
    if (a === null) return 1; // no score: last either way
    if (b === null) return -1;
    return a - b;
  };

  const filter = (t) => {
    let order = t.rows.map((_, i) => i);
    if (state.query) {
      const texts = rowTexts(t);
      order = order.filter((i) => texts[i].includes(state.query));
    }
    if (t.rowAction && state.hidden.size) {
      order = order.filter((i) => !state.hidden.has(t.rowAction[i]));
    }
    if (t.sort >= 0) {
      const keys = sortKeys(t, t.sort);
      const kind = t.columns[t.sort].kind;
      order.sort((a, b) => t.dir * compare(kind, keys[a], keys[b]) || a - b);
    }
    t.order = order;
    t.page = Math.min(t.page, lastPage(t));
  };

  const draw = (t) => {
    const size = pageSize();
    const start = state.printing ? 0 : t.page * size;
    const end = Math.min(start + size, t.order.length);
    const rows = document.createDocumentFragment();
    for (let k = start; k < end; k++) {
      const row = t.rows[t.order[k]];
      const tr = el('tr');
      tr.appendChild(el('td', 'mark', t.mark));
      t.columns.forEach((column, i) => tr.appendChild(cellNode(column.kind, row[i], i === 0)));
      rows.appendChild(tr);
    }
    if (!t.order.length) {
      const tr = el('tr');
      const td = el('td', 'note', 'No rows match.');
      td.colSpan = t.columns.length + 1;
      tr.appendChild(td);
      rows.appendChild(tr);
    }
    t.body.replaceChildren(rows);
    const total = t.rows.length;
    const matching = t.order.length === total ? '' : ' matching (' + numbers.format(total) + ' in all)';
    t.where.textContent = t.order.length
      ? 'Rows ' + numbers.format(start + 1) + '\u2013' + numbers.format(end) + ' of ' +
        numbers.format(t.order.length) + matching
      : 'No rows' + matching;
    t.first.disabled = t.previous.disabled = t.page === 0;
    t.next.disabled = t.last.disabled = t.page >= lastPage(t);
    t.pager.hidden = t.order.length <= size && t.page === 0 && !matching;
    if (t.summary) {
      t.summary.textContent = t.order.length === total
        ? 'Show the ' + numbers.format(total) + ' ' + t.title.toLowerCase() + ' items'
        : 'Show the ' + numbers.format(t.order.length) + ' of ' + numbers.format(total) + ' ' +
          t.title.toLowerCase() + ' items that match';
    }
  };

  const tables = [];
  for (const section of model.sections) {
    if (!section.rows.length) continue;
    const t = makeTable(section.id, section.title, section.mark, section.columns,
      section.rows, section.id);
    if (t) tables.push(t);
  }
  const warnings = model.warnings;
  if (warnings.rows.length) {
    const t = makeTable('warnings', 'Item warnings', '!', warnings.columns, warnings.rows, null);
    if (t) tables.push(t);
  }

  const status = document.getElementById('status');
  const refresh = () => {
    let shown = 0;
    let all = 0;
    for (const t of tables) {
      const off = t.action !== null && state.hidden.has(t.action);
      t.section.hidden = off;
      filter(t);
      draw(t);
      if (t.action !== null) {
        all += t.rows.length;
        if (!off) shown += t.order.length;
      }
    }
    if (status) {
      status.textContent = 'Showing ' + numbers.format(shown) + ' of ' + numbers.format(all) +
        ' items' + (state.query ? ' matching \u201c' + state.query + '\u201d' : '') + '.';
    }
  };

  const sortBy = (t, column) => {
    t.dir = t.sort === column ? -t.dir : 1;
    t.sort = column;
    t.page = 0;
    const heads = t.table.tHead.rows[0].cells;
    t.columns.forEach((_, i) => {
      const order = t.dir > 0 ? 'ascending' : 'descending';
      heads[i + 1].setAttribute('aria-sort', i === column ? order : 'none');
    });
    filter(t);
    draw(t);
  };

  const controls = document.getElementById('controls');
  if (controls) {
    controls.hidden = false;
    controls.addEventListener('submit', (event) => event.preventDefault());
    for (const box of controls.querySelectorAll('input[name="action"]')) {
      box.addEventListener('change', () => {
        if (box.checked) state.hidden.delete(box.value);
        else state.hidden.add(box.value);
        refresh();
      });
    }
    const search = document.getElementById('search');
    let timer = 0;
    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.query = search.value.trim().toLowerCase();
        for (const t of tables) t.page = 0;
        refresh();
      }, 150);
    });
    const size = document.getElementById('page-size');
    size.addEventListener('change', () => {
      state.pageRows = Number(size.value) || model.pageRows;
      for (const t of tables) t.page = 0;
      refresh();
    });
  }
  window.addEventListener('beforeprint', () => { state.printing = true; tables.forEach(draw); });
  window.addEventListener('afterprint', () => { state.printing = false; tables.forEach(draw); });
  refresh();
  document.documentElement.dataset.ready = 'true';
})();
