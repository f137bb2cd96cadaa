import { NavLink, Outlet } from 'react-router';

export function Layout() {
  return (
    <div className="app">
      <header className="topbar">
        <NavLink to="/" className="brand" end>
          Batchiepatchie
        </NavLink>
        <nav>
          <NavLink to="/" end>
            Jobs
          </NavLink>
          <NavLink to="/job_queues">Job queues</NavLink>
          <NavLink to="/stats">Stats</NavLink>
        </nav>
        <span className="spacer" />
        <a href="/admin/queues" className="external" title="The pipeline's BullMQ queues (bull-board; operators only)">
          Pipeline dashboard ↗
        </a>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
