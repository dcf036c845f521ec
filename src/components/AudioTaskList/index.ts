export { AudioTaskList, type AudioTaskListProps, type AudioTaskListState } from './AudioTaskList';
