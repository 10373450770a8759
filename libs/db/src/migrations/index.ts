import { Initial1795326100325 } from './1795326100325-Initial';

/** Every migration, in order. New ones are generated with `npm run db:generate -- NAME` and added here. */
export const MIGRATIONS = [Initial1795326100325];
