// Entry point kept tiny: kick off the Jobs page's first request, then load the app.
import { startJobsPrefetch } from './lib/prefetch';

startJobsPrefetch();
void import('./app');
