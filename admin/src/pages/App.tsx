import { Page } from '@strapi/strapi/admin';
import { Route, Routes } from 'react-router-dom';

import { PERMISSIONS } from '../permissions';
import { BackupDetailsPage } from './BackupDetailsPage';
import { BackupsPage } from './BackupsPage';
import { ImportPage } from './ImportPage';
import { MonitoringPage } from './MonitoringPage';

const App = () => (
  <Page.Protect permissions={PERMISSIONS.read}>
    <Routes>
      <Route index element={<BackupsPage />} />
      <Route path="monitoring" element={<MonitoringPage />} />
      <Route
        path="import"
        element={
          <Page.Protect permissions={PERMISSIONS.import}>
            <ImportPage />
          </Page.Protect>
        }
      />
      <Route path=":id" element={<BackupDetailsPage />} />
      <Route path="*" element={<Page.Error />} />
    </Routes>
  </Page.Protect>
);

export default App;
