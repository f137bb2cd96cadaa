import { StrictMode, Suspense, lazy } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Layout } from './components/Layout';
import { ApiError } from './lib/api';
import { JobsPage } from './pages/JobsPage';
import { JobPage } from './pages/JobPage';
import { QueuesPage } from './pages/QueuesPage';
import { Empty, Loading } from './components/States';
import './styles.css';
import { basePath } from './lib/basePath';

// The charting library is heavy; only the Stats page pays for it.
const StatsPage = lazy(() => import('./pages/StatsPage'));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not change on retry (bad input, unknown job, no rights); network and 5xx might.
      retry: (failures, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && failures < 2,
      refetchOnWindowFocus: false,
      staleTime: 2000,
    },
  },
});

function NotFound() {
  return (
    <Empty title="Page not found">
      <Link to="/">Go to the jobs</Link>
    </Empty>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      {/* URL changes apply at once, not as transitions: inputs whose value lives in the URL
          (selection checkboxes, Live) would otherwise flip back until the transition commits. */}
      <BrowserRouter useTransitions={false} basename={basePath() || undefined}>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<JobsPage />} />
            <Route path="job/:id" element={<JobPage />} />
            <Route path="job_queues" element={<QueuesPage />} />
            <Route
              path="stats"
              element={
                <Suspense fallback={<Loading what="charts" />}>
                  <StatsPage />
                </Suspense>
              }
            />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
