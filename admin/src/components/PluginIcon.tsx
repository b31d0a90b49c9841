import { Archive } from '@strapi/icons';

export const PluginIcon = () => <Archive />;
