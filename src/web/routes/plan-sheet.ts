/**
 * The plan as a spreadsheet: XLSX and CSV export, and import back as an upsert with a preview.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerPlanSheetRoutes(app: FastifyInstance, services: Services): void {
  void app;
  void services;
}
